from __future__ import annotations

from services.ingestor.extract.names import normalize_entity, normalize_name, title_names
from shared.events import Entity


def test_full_width_letters_digits_and_spaces_fold() -> None:
    assert normalize_name("ＱＱ音乐") == "QQ音乐"
    assert normalize_name("Ｍｅｌｏｄｙ　Ｂｏｘ") == "Melody Box"
    assert normalize_name("腾讯科技（深圳）有限公司") == "腾讯科技（深圳）有限公司"
    assert normalize_name("Ａｃｍｅ　Ｃｏ．，Ｌｔｄ．") == "Acme Co., Ltd."


def test_entity_version_folds_completely() -> None:
    entity = normalize_entity(Entity(name="ＱＱ", version="Ｖ８．５（０１）", store="应用宝"))
    assert (entity.name, entity.version, entity.store) == ("QQ", "V8.5(01)", "应用宝")


def test_title_names() -> None:
    assert [
        e.name for e in title_names("关于抖音、快手等33款App违法违规收集使用个人信息情况的通报")
    ] == [
        "抖音",
        "快手",
    ]
    assert [e.name for e in title_names("国家互联网信息办公室关于星途出行等25款App的通报")] == [
        "星途出行"
    ]
    assert title_names("关于侵害用户权益行为的APP通报") == []
    assert title_names("关于部分App等10款应用的通报") == []
