// The Inbound list: every webhook with its URL, handler, last delivery, active toggle, status and
// a row menu (edit, rotate secret, capture sample, send test, delete).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { Button, Dialog, Heading, Menu, MenuItem, MenuTrigger, Modal, ModalOverlay, Popover, Switch, Link } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, CopyButton, EmptyState, ErrorState, Field, Loading, RelTime, errorText, notify, type ChipTone } from '../components/ui.tsx';
import { graphql } from '../lib/api.ts';
import {
  DELETE_WEBHOOK, REGISTRY_QUERY, ROTATE_SECRET, SEND_TEST, SET_ACTIVE, START_CAPTURE, WEBHOOKS_QUERY,
  type InboundAction, type Webhook, type WorkflowSummary,
} from '../lib/queries.ts';
import { usePermissions } from './Shell.tsx';
import type { ShownSecret } from './SecretDialog.tsx';

const SecretDialog = lazy(() => import('./SecretDialog.tsx').then((m) => ({ default: m.SecretDialog })));
const WebhookDialog = lazy(() => import('./WebhookDialog.tsx').then((m) => ({ default: m.WebhookDialog })));

export function useWebhooks() {
  return useQuery({
    queryKey: ['webhooks'],
    queryFn: async () => (await graphql<{ inboundWebhooks: { nodes: Webhook[] } }>(WEBHOOKS_QUERY)).inboundWebhooks.nodes,
  });
}

export function useRegistry() {
  return useQuery({
    queryKey: ['registry'],
    queryFn: async () => {
      const data = await graphql<{ inboundActions: InboundAction[]; workflows: { nodes: WorkflowSummary[] } }>(REGISTRY_QUERY);
      return { actions: data.inboundActions, workflows: data.workflows.nodes };
    },
    staleTime: 60_000,
  });
}

export function webhookStatus(w: Webhook, now = Date.now()): { key: string; tone: ChipTone } {
  if (w.autoDisabledAt && !w.isActive) return { key: 'status.autoDisabled', tone: 'bad' };
  if (!w.isActive) return { key: 'status.inactive', tone: 'muted' };
  if (w.sampleCaptureUntil && new Date(w.sampleCaptureUntil).getTime() > now) return { key: 'status.capturing', tone: 'info' };
  return { key: 'status.active', tone: 'ok' };
}

function DeleteDialog({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: () => graphql(DELETE_WEBHOOK, { id: webhook.inboundWebhookId }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      notify(t('list.deleted', { name: webhook.name }));
      onClose();
    },
  });
  return (
    <ModalOverlay isOpen isDismissable onOpenChange={(open) => !open && onClose()} className="overlay">
      <Modal className="modal modal-small">
        <Dialog className="dialog" id="delete-dialog">
          <Heading slot="title">{t('delete.title')}</Heading>
          <p>{t('delete.body')}</p>
          <p>
            {t('delete.typeSlug')} <code translate="no">{webhook.slug}</code>
          </p>
          <Field id="delete-confirm-slug" label={t('delete.slugLabel')} value={typed} onChange={setTyped} mono />
          {remove.isError && <p className="error-text">{errorText(t, remove.error)}</p>}
          <div className="dialog-actions">
            <Button id="delete-cancel" className="btn" onPress={onClose}>
              {t('common.cancel')}
            </Button>
            <Button id="delete-confirm" className="btn btn-danger" isDisabled={typed !== webhook.slug || remove.isPending} onPress={() => remove.mutate()}>
              {t('delete.confirm')}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

export function InboundList() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { can } = usePermissions();
  const webhooks = useWebhooks();
  const registry = useRegistry();
  const [editing, setEditing] = useState<Webhook | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [secret, setSecret] = useState<ShownSecret | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] });

  const setActive = useMutation({
    mutationFn: (v: { id: string; active: boolean }) => graphql(SET_ACTIVE, v),
    onSettled: refresh,
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const rotate = useMutation({
    mutationFn: async (w: Webhook) => {
      const data = await graphql<{ rotateInboundWebhookSecret: { secret: string; url: string; previousSecretsExpireAt: string } }>(ROTATE_SECRET, { id: w.inboundWebhookId });
      return { webhook: w, ...data.rotateInboundWebhookSecret };
    },
    onSuccess: (r) => setSecret({ webhook: r.webhook, secret: r.secret, url: r.url, rotated: true, previousSecretsExpireAt: r.previousSecretsExpireAt }),
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const capture = useMutation({
    mutationFn: (w: Webhook) => graphql(START_CAPTURE, { id: w.inboundWebhookId }),
    onSuccess: () => notify(t('list.captureStarted')),
    onSettled: refresh,
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const sendTest = useMutation({
    mutationFn: (w: Webhook) => graphql(SEND_TEST, { id: w.inboundWebhookId, body: (w.samplePayload as object | null) ?? { test: true, message: 'Test delivery from Intake' } }),
    onSuccess: () => notify(t('list.testSent')),
    onSettled: () => {
      refresh();
      void queryClient.invalidateQueries({ queryKey: ['deliveries'] });
    },
    onError: (e) => notify(errorText(t, e), 'bad'),
  });

  if (webhooks.isPending) return <Loading label={t('list.loading')} />;
  if (webhooks.isError) return <ErrorState error={webhooks.error} onRetry={() => void webhooks.refetch()} />;
  const actions = new Map((registry.data?.actions ?? []).map((a) => [a.name, a]));
  const workflows = new Map((registry.data?.workflows ?? []).map((w) => [w.workflowId, w]));
  const canCreate = can('inbound_webhook:create');
  const canUpdate = can('inbound_webhook:update');
  const canDelete = can('inbound_webhook:delete');

  const handlerLabel = (w: Webhook): { kind: string; name: string } => {
    if (w.handlerType === 'workflow') {
      const wf = workflows.get(String(w.handlerConfig.workflow_id));
      return { kind: t('handler.workflow'), name: wf?.name ?? t('handler.unknownWorkflow') };
    }
    const action = actions.get(String(w.handlerConfig.action));
    return { kind: t('handler.directAction'), name: action?.displayName ?? String(w.handlerConfig.action ?? '') };
  };

  const newButton = canCreate ? (
    <Button id="new-webhook" className="btn btn-primary" onPress={() => setEditing('new')}>
      {t('list.new')}
    </Button>
  ) : null;

  return (
    <section aria-labelledby="inbound-heading">
      <div className="section-head">
        <div>
          <h2 id="inbound-heading">{t('list.title')}</h2>
          <p className="muted">{t('list.subtitle')}</p>
        </div>
        {webhooks.data.length > 0 && (newButton ?? <Chip tone="muted">{t('list.readOnly')}</Chip>)}
      </div>
      {webhooks.data.length === 0 ? (
        <EmptyState title={t('list.emptyTitle')} action={newButton ?? <p className="muted">{t('list.emptyViewer')}</p>}>
          <p>{t('list.emptyBody')}</p>
          <ol className="steps">
            <li>{t('list.emptyStep1')}</li>
            <li>{t('list.emptyStep2')}</li>
            <li>{t('list.emptyStep3')}</li>
          </ol>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" id="webhook-list">
            <thead>
              <tr>
                <th scope="col">{t('list.colName')}</th>
                <th scope="col">{t('list.colUrl')}</th>
                <th scope="col">{t('list.colHandler')}</th>
                <th scope="col">{t('list.colLastDelivery')}</th>
                <th scope="col">{t('list.colActive')}</th>
                <th scope="col">{t('list.colStatus')}</th>
                <th scope="col">
                  <span className="sr-only">{t('list.colMenu')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {webhooks.data.map((w) => {
                const status = webhookStatus(w);
                const handler = handlerLabel(w);
                const last = w.lastDeliveryAt;
                return (
                  <tr key={w.inboundWebhookId} id={`webhook-row-${w.slug}`}>
                    <td>
                      <div className="cell-title" translate="no">
                        {w.name}
                      </div>
                      <div className="cell-sub mono" translate="no">
                        {w.slug}
                      </div>
                    </td>
                    <td>
                      <div className="url-cell">
                        <code className="url" translate="no" title={w.url}>
                          {w.url}
                        </code>
                        <CopyButton id={`webhook-copy-url-${w.slug}`} text={w.url} label={t('list.copyUrl', { name: w.name })} />
                      </div>
                    </td>
                    <td>
                      <div className="cell-sub">{handler.kind}</div>
                      <div translate="no">{handler.name}</div>
                    </td>
                    <td>
                      {last ? (
                        <Link id={`webhook-last-${w.slug}`} href={`/settings/webhooks/deliveries?webhook=${w.inboundWebhookId}`} className="link">
                          <RelTime value={last} />
                        </Link>
                      ) : (
                        <span className="muted">{t('list.never')}</span>
                      )}
                    </td>
                    <td>
                      <Switch
                        id={`webhook-active-${w.slug}`}
                        className="switch"
                        isSelected={w.isActive}
                        isDisabled={!canUpdate || setActive.isPending}
                        onChange={(active) => setActive.mutate({ id: w.inboundWebhookId, active })}
                        aria-label={t('list.activeLabel', { name: w.name })}
                      >
                        <span className="switch-track" aria-hidden="true">
                          <span className="switch-thumb" />
                        </span>
                      </Switch>
                    </td>
                    <td>
                      <Chip tone={status.tone}>{t(status.key)}</Chip>
                    </td>
                    <td className="cell-menu">
                      <MenuTrigger>
                        <Button id={`webhook-menu-${w.slug}`} className="btn-icon" aria-label={t('list.menuLabel', { name: w.name })}>
                          ⋯
                        </Button>
                        <Popover className="popover" placement="bottom end">
                          <Menu
                            className="menu"
                            onAction={(key) => {
                              if (key === 'edit') setEditing(w);
                              else if (key === 'rotate') rotate.mutate(w);
                              else if (key === 'capture') capture.mutate(w);
                              else if (key === 'test') sendTest.mutate(w);
                              else if (key === 'delete') setDeleting(w);
                            }}
                          >
                            {/* React Aria owns a menu item's DOM id; the stable id is on its label. */}
                            <MenuItem id="deliveries" className="menu-item" href={`/settings/webhooks/deliveries?webhook=${w.inboundWebhookId}`}>
                              <span id={`webhook-deliveries-${w.slug}`}>{t('list.menuDeliveries')}</span>
                            </MenuItem>
                            {canUpdate && (
                              <MenuItem id="edit" className="menu-item">
                                <span id={`webhook-edit-${w.slug}`}>{t('list.menuEdit')}</span>
                              </MenuItem>
                            )}
                            {canUpdate && w.authType !== 'ip_allowlist' && (
                              <MenuItem id="rotate" className="menu-item">
                                <span id={`webhook-rotate-${w.slug}`}>{t('list.menuRotate')}</span>
                              </MenuItem>
                            )}
                            {canUpdate && (
                              <MenuItem id="capture" className="menu-item">
                                <span id={`webhook-capture-${w.slug}`}>{t('list.menuCapture')}</span>
                              </MenuItem>
                            )}
                            {canUpdate && (
                              <MenuItem id="test" className="menu-item">
                                <span id={`webhook-test-${w.slug}`}>{t('list.menuTest')}</span>
                              </MenuItem>
                            )}
                            {canDelete && (
                              <MenuItem id="delete" className="menu-item menu-item-danger">
                                <span id={`webhook-delete-${w.slug}`}>{t('list.menuDelete')}</span>
                              </MenuItem>
                            )}
                          </Menu>
                        </Popover>
                      </MenuTrigger>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Suspense fallback={null}>
      {editing && (
        <WebhookDialog
          webhook={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(shown) => {
            setEditing(null);
            setSecret(shown);
          }}
        />
      )}
      {deleting && <DeleteDialog webhook={deleting} onClose={() => setDeleting(null)} />}
      {secret && <SecretDialog shown={secret} onClose={() => setSecret(null)} />}
      </Suspense>
    </section>
  );
}
