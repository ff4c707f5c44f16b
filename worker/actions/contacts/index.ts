// Contact actions. One import per action module.
import './upsertContactByExternalId.ts';
