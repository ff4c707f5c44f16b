// Tag actions. One import per action module.
import './addTagToEntityByExternalId.ts';
