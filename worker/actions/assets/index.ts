// Asset actions. One import per action module.
import './upsertAssetByExternalId.ts';
