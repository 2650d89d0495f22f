"""Operations: status, consumer lag, topic tailing, dead letters, readiness and AsyncAPI.

Everything here talks to Kafka with aiokafka and to the database with plain SQL, so the
``regwatch status|topics|dlq|asyncapi`` commands and the ``/metrics``/``/readyz`` routes work
without importing any service.
"""
