"""AWS stores behind a JuiceFS file system: an S3 bucket for data and a managed metadata engine.

Both hold the only copy of the file system (chunks in S3, the inode tree in the engine), so they
are registered with ``protect=True``; the bucket also with ``retain_on_delete=True`` so that even
an intentional ``pulumi destroy`` leaves the data. Secrets (auth token, password) arrive as
``pulumi.Output.secret`` values and the metadata URL built from them stays secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import quote

import pulumi
from pydantic import Field, SecretStr

from gpu_platform.aws.s3 import private_bucket
from gpu_platform.config import ConfigModel
from gpu_platform.core.names import child_name

if TYPE_CHECKING:  # imported where an AWS resource is made: environments without AWS never
    import pulumi_aws as aws  # load pulumi_aws (~30 ms)

REDIS_PORT = 6379
POSTGRES_PORT = 5432


class RedisEngine(ConfigModel):
    """ElastiCache for Redis OSS (JuiceFS's fastest metadata engine)."""

    kind: Literal["redis"]
    node_type: str = "cache.r7g.large"
    # >1 node: a replica in another AZ with automatic failover
    nodes: Annotated[int, Field(ge=1, le=6)] = 2
    engine_version: str = "7.1"
    parameter_family: str = "redis7"
    # daily RDB snapshots kept this many days (the inode tree is the file system's index)
    snapshot_retention_days: Annotated[int, Field(ge=1, le=35)] = 7
    auth_token: SecretStr


class PostgresEngine(ConfigModel):
    """RDS PostgreSQL: slower than Redis but durable by design, for very large trees."""

    kind: Literal["postgres"]
    instance_class: str = "db.r6g.large"
    engine_version: str = "16"
    allocated_storage_gib: Annotated[int, Field(ge=20)] = 100
    multi_az: bool = True
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 7
    username: str = "juicefs"
    database: str = "juicefs"
    password: SecretStr


MetadataEngine = Annotated[RedisEngine | PostgresEngine, Field(discriminator="kind")]


def _escape(value: str) -> str:
    # a credential inside a URL: "@", ":" or "/" in it would break the URL
    return quote(value, safe="")


def _guarded(parent: pulumi.Resource) -> pulumi.ResourceOptions:
    # protect: no accidental replacement or deletion; retain: removing it from the program (or
    # `pulumi destroy`) leaves the data store in place
    return pulumi.ResourceOptions(parent=parent, protect=True, retain_on_delete=True)


def create_bucket(
    name: str, bucket_name: str | None, tags: dict[str, str], parent: pulumi.Resource,
    region: str | None = None,
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """The file system's chunk store: the library's private bucket (gpu_platform.aws.s3)."""
    store = private_bucket(name, parent, bucket_name=bucket_name, tags=tags, region=region)
    return store.bucket, store.resources


def create_redis(
    name: str, engine: RedisEngine, subnet_ids: pulumi.Input[Sequence[str]],
    security_group_ids: pulumi.Input[Sequence[str]], tags: dict[str, str], parent: pulumi.Resource,
    region: str | None = None,
) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    import pulumi_aws as aws
    child = pulumi.ResourceOptions(parent=parent)
    params = aws.elasticache.ParameterGroup(
        child_name(name, "redis-params"),
        family=engine.parameter_family,
        description=f"JuiceFS metadata for {name}: never evict keys",
        # JuiceFS refuses to run on a Redis that may evict keys: an evicted key is a lost inode
        parameters=[{"name": "maxmemory-policy", "value": "noeviction"}],
        tags=tags, region=region,
        opts=child,
    )
    subnets = aws.elasticache.SubnetGroup(
        child_name(name, "redis-subnets"), subnet_ids=subnet_ids,
        description=f"JuiceFS metadata for {name}", tags=tags, region=region, opts=child,
    )
    token = pulumi.Output.secret(engine.auth_token.get_secret_value())
    replicated = engine.nodes > 1
    group = aws.elasticache.ReplicationGroup(
        child_name(name, "redis"),
        description=f"JuiceFS metadata engine for {name}",
        engine="redis",
        engine_version=engine.engine_version,
        node_type=engine.node_type,
        num_cache_clusters=engine.nodes,
        automatic_failover_enabled=replicated,
        multi_az_enabled=replicated,
        port=REDIS_PORT,
        parameter_group_name=params.name,
        subnet_group_name=subnets.name,
        security_group_ids=security_group_ids,
        transit_encryption_enabled=True,
        at_rest_encryption_enabled=True,
        auth_token=token,
        snapshot_retention_limit=engine.snapshot_retention_days,
        final_snapshot_identifier=f"{name}-final",
        apply_immediately=False,
        tags=tags, region=region,
        opts=_guarded(parent),
    )
    # rediss:// (TLS); database 1 keeps db 0 free for anything else sharing the group
    url: pulumi.Output[str] = pulumi.Output.concat(
        "rediss://:", token.apply(_escape), "@", group.primary_endpoint_address, f":{REDIS_PORT}/1")
    metaurl: pulumi.Output[str] = pulumi.Output.secret(url)
    return metaurl, [params, subnets, group]


def create_postgres(
    name: str, engine: PostgresEngine, subnet_ids: pulumi.Input[Sequence[str]],
    security_group_ids: pulumi.Input[Sequence[str]], tags: dict[str, str], parent: pulumi.Resource,
    region: str | None = None, purpose: str = "JuiceFS metadata",
) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
    """RDS PostgreSQL in the given private subnets; ``purpose`` names what it holds (descriptions)."""
    import pulumi_aws as aws
    subnets = aws.rds.SubnetGroup(
        child_name(name, "postgres-subnets"), subnet_ids=subnet_ids,
        description=f"{purpose} for {name}", tags=tags, region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    password = pulumi.Output.secret(engine.password.get_secret_value())
    instance = aws.rds.Instance(
        child_name(name, "postgres"),
        engine="postgres",
        engine_version=engine.engine_version,
        instance_class=engine.instance_class,
        allocated_storage=engine.allocated_storage_gib,
        storage_encrypted=True,
        deletion_protection=True,
        multi_az=engine.multi_az,
        backup_retention_period=engine.backup_retention_days,
        skip_final_snapshot=False,
        final_snapshot_identifier=f"{name}-final",
        publicly_accessible=False,
        db_name=engine.database,
        username=engine.username,
        password=password,
        port=POSTGRES_PORT,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=security_group_ids,
        tags=tags, region=region,
        opts=_guarded(parent),
    )
    url: pulumi.Output[str] = pulumi.Output.concat(
        "postgres://", quote(engine.username, safe=""), ":", password.apply(_escape), "@", instance.address,
        f":{POSTGRES_PORT}/{engine.database}?sslmode=require")
    metaurl: pulumi.Output[str] = pulumi.Output.secret(url)
    return metaurl, [subnets, instance]
