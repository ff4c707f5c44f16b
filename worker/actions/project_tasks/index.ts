// Project task actions. One import per action module.
import './createProjectTask.ts';
import './updateProjectTaskStatusByExternalId.ts';
