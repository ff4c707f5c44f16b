// project_tasks actions. One import per action module (none yet).
export {};
