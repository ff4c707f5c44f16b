// Client actions. One import per action module.
import './upsertClientByExternalId.ts';
import './setClientActiveByExternalId.ts';
