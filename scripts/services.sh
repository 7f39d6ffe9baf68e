#!/usr/bin/env bash
# Start the local PostgreSQL, Redis and RabbitMQ the tests use, if they are installed but not running.
set -u
if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if command -v rabbitmq-server >/dev/null && ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  rabbitmq-server -detached || true
fi
for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 \
    && rabbitmq-diagnostics -q ping >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "PostgreSQL, Redis or RabbitMQ did not come up" >&2
exit 1
