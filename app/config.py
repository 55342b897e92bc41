"""Settings, read once from the environment (prefix ``WORKFORCE_``; ``DATABASE_URL`` as is)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'workforce.db'}"
DEVELOPMENT_TOKEN_KEY = "development-only-token-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKFORCE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "WORKFORCE_DATABASE_URL"),
    )
    # Tokens are stored as HMAC-SHA256 under this key; changing it invalidates every token.
    token_key: SecretStr = SecretStr(DEVELOPMENT_TOKEN_KEY)
    # When set at start-up, a token with exactly this value and the admin scope exists.
    admin_token: SecretStr | None = None
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    log_level: str = "INFO"
    log_requests: bool = True
    # Plans are solved in this many worker processes, away from the event loop.
    plan_workers: int = Field(default=1, ge=1, le=64)
    # How the worker processes start: "spawn" is the safe default; "fork" starts faster.
    plan_start_method: Literal["spawn", "forkserver", "fork"] = "spawn"
    # Start the worker processes with the app, so the first plan does not wait for them.
    plan_prewarm: bool = True
    # How long POST /v1/plans waits for a solve before answering 202 (Prefer: wait=N overrides).
    plan_wait_s: float = Field(default=10.0, ge=0, le=120)
    # The solver's time limit when the scenario sets none.
    plan_time_limit_s: float = Field(default=60.0, gt=0, le=3600)
    # When set (amqp://... or redis://...), plans are solved by Celery workers
    # (`celery -A app.plans.tasks worker`) instead of the API's own processes.
    broker_url: str | None = None
    # The broker queue plans are published to; workers must consume the same one.
    plan_queue: str = Field(default="plans", min_length=1, max_length=200)
    # A solving worker touches its plan this often; a claim not touched for
    # plan_claim_stale_s belongs to a dead worker and may be taken over.
    plan_heartbeat_s: float = Field(default=5.0, gt=0, le=600)
    plan_claim_stale_s: float = Field(default=30.0, gt=0, le=3600)
    # A plan whose worker died this many times is failed instead of solved again.
    plan_max_attempts: int = Field(default=3, ge=1, le=100)
    # Limits on the plan work one token may ask for (app.plans.limits).
    plan_max_months: int = Field(default=60, ge=1, le=120)
    plan_max_time_limit_s: float = Field(default=300.0, gt=0, le=3600)
    plan_max_sweep_points: int = Field(default=50, ge=1, le=200)
    plan_max_pending_per_token: int = Field(default=60, ge=1, le=100_000)

    # Load: at most this many requests are served at once (each holds at most one pooled
    # connection at a time); the database pool and the thread pool are sized from it
    # (see app/admission.py). /healthz and /readyz are outside the limit.
    max_concurrent_requests: int = Field(default=16, ge=1, le=1024)
    # Requests beyond the limit wait in arrival order, up to this many and this long, then
    # get 503 with Retry-After.
    max_queued_requests: int = Field(default=1000, ge=0, le=100_000)
    request_queue_timeout_s: float = Field(default=2.0, ge=0, le=60)
    # How long a request waits for a pooled connection before 503 (a safety net: the
    # pool is as large as the request limit).
    db_pool_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # PostgreSQL: give up connecting after this long (503 while the database is down).
    db_connect_timeout_s: float = Field(default=3.0, ge=1, le=60)
    # SQLite: how long a writer waits for the write lock before 503.
    sqlite_busy_timeout_s: float = Field(default=5.0, ge=0, le=600)
    # Measures served again from memory while no return has changed them; 0 turns it off.
    measure_cache_mb: int = Field(default=32, ge=0, le=4096)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if (
            self.environment == "production"
            and self.token_key.get_secret_value() == DEVELOPMENT_TOKEN_KEY
        ):
            raise ValueError("WORKFORCE_TOKEN_KEY must be set to a secret value in production")
        if self.plan_time_limit_s > self.plan_max_time_limit_s:
            raise ValueError(
                "WORKFORCE_PLAN_TIME_LIMIT_S must not exceed WORKFORCE_PLAN_MAX_TIME_LIMIT_S"
            )
        if self.plan_max_pending_per_token < self.plan_max_sweep_points:
            raise ValueError(
                "WORKFORCE_PLAN_MAX_PENDING_PER_TOKEN must be at least "
                "WORKFORCE_PLAN_MAX_SWEEP_POINTS, or no full sweep could ever be accepted"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
