//! The async adapter to Alertmanager, Cortex and Mimir: the Alertmanager API v2 client,
//! multi-tenant addressing (`X-Scope-OrgID`, path prefixes, `/api/v1/alerts`), reads
//! merged over HA members, and a syncer that reconciles desired per-tenant
//! configurations. Nothing is implemented here yet.
