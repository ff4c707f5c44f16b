// GET /api/v1/inbound-webhooks/actions: the action registry (the same list as GraphQL's
// inboundActions and `intake actions list`).
import { Router } from 'express';
import { listActions } from '../../worker/actions/index.ts';
import { route, type Schemas } from './http.ts';

export function actionRoutes(): Router {
  const router = Router();
  route(router, 'get', '/api/v1/inbound-webhooks/actions', async () => {
    const data: Schemas['InboundActionDefinition'][] = listActions().map((action) => ({
      name: action.name,
      entityType: action.entityType,
      displayName: action.displayName,
      description: action.description,
      targetFields: action.targetFields.map((field) => ({
        name: field.name,
        type: field.type,
        required: field.required,
        description: field.description,
        ...(field.enumValues ? { enumValues: [...field.enumValues] } : {}),
        ...(field.refEntity ? { refEntity: field.refEntity } : {}),
      })),
    }));
    return { status: 200, body: { data } };
  });
  return router;
}
