// The Outbound list: every subscription with its URL, event types, last delivery, active toggle,
// status and a row menu (delivery log, edit, send test event, rotate secret, delete); a notice
// when Intake turned one off.
import { useMutation } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { Button, Link, Menu, MenuItem, MenuTrigger, Popover, Switch } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { Chip, CopyButton, EmptyState, ErrorState, Loading, RelTime, errorText, notify } from '../../components/ui.tsx';
import { graphql } from '../../lib/api.ts';
import { deliveryTone, subscriptionStatus } from '../../lib/outbound.ts';
import { UPDATE_SUBSCRIPTION, type OutboundSubscription } from '../../lib/outboundQueries.ts';
import { usePermissions } from '../Shell.tsx';
import { subscriptionHref, useRefreshOutbound, useSubscriptions } from './data.ts';
import type { ShownOutboundSecret } from './dialogs.tsx';

const SubscriptionDialog = lazy(() => import('./SubscriptionDialog.tsx').then((m) => ({ default: m.SubscriptionDialog })));
const OutboundSecretDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.OutboundSecretDialog })));
const RotateDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.RotateDialog })));
const TestEventDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.TestEventDialog })));
const DeleteSubscriptionDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.DeleteSubscriptionDialog })));

/** The event types a subscription asked for, as chips ("*" reads "Every event"). */
export function EventChips({ patterns, max = 4 }: { patterns: string[]; max?: number }) {
  const { t } = useTranslation();
  if (patterns.includes('*')) return <Chip tone="info">{t('outbound.list.everyEvent')}</Chip>;
  const shown = patterns.slice(0, max);
  return (
    <span className="chips">
      {shown.map((p) => (
        <Chip key={p} tone="muted">
          <span translate="no">{p}</span>
        </Chip>
      ))}
      {patterns.length > shown.length && <span className="muted small">{t('outbound.list.moreEvents', { count: patterns.length - shown.length })}</span>}
    </span>
  );
}

/** "Active" / "Inactive" / "Failing since …" / "Disabled by Intake", as a chip. */
export function SubscriptionStatusChip({ subscription }: { subscription: OutboundSubscription }) {
  const { t } = useTranslation();
  const status = subscriptionStatus(subscription);
  return (
    <Chip tone={status.tone}>
      {t(status.key)}
      {status.key === 'outbound.status.failing' && subscription.failingSince && (
        <>
          {' '}
          <RelTime value={subscription.failingSince} />
        </>
      )}
    </Chip>
  );
}

export function OutboundList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { can } = usePermissions();
  const refresh = useRefreshOutbound();
  const subscriptions = useSubscriptions();
  const [editing, setEditing] = useState<OutboundSubscription | 'new' | null>(null);
  const [rotating, setRotating] = useState<OutboundSubscription | null>(null);
  const [testing, setTesting] = useState<OutboundSubscription | null>(null);
  const [deleting, setDeleting] = useState<OutboundSubscription | null>(null);
  const [secret, setSecret] = useState<ShownOutboundSecret | null>(null);

  const setActive = useMutation({
    mutationFn: (v: { id: string; active: boolean }) => graphql(UPDATE_SUBSCRIPTION, { id: v.id, patch: { isActive: v.active } }),
    onSettled: refresh,
    onError: (e) => notify(errorText(t, e), 'bad'),
  });

  if (subscriptions.isPending) return <Loading label={t('outbound.list.loading')} />;
  if (subscriptions.isError) return <ErrorState error={subscriptions.error} onRetry={() => void subscriptions.refetch()} />;
  const canCreate = can('outbound_webhook:create');
  const canUpdate = can('outbound_webhook:update');
  const canDelete = can('outbound_webhook:delete');
  const list = subscriptions.data;
  const autoDisabled = list.filter((s) => !s.isActive && s.autoDisabledAt);

  const createButton = canCreate ? (
    <Button id="outbound-create" className="btn btn-primary" onPress={() => setEditing('new')}>
      {t('outbound.list.new')}
    </Button>
  ) : null;

  return (
    <section aria-labelledby="outbound-heading">
      <div className="section-head">
        <div>
          <h2 id="outbound-heading">{t('outbound.list.title')}</h2>
          <p className="muted">{t('outbound.list.subtitle')}</p>
        </div>
        {list.length > 0 && (createButton ?? <Chip tone="muted">{t('outbound.list.readOnly')}</Chip>)}
      </div>
      {autoDisabled.length > 0 && (
        <div className="callout callout-error" role="alert" id="outbound-disabled-banner">
          <strong>{t('outbound.list.disabledTitle', { count: autoDisabled.length })}</strong>
          <p>{t('outbound.list.disabledBody')}</p>
          <ul className="plain-list">
            {autoDisabled.map((s) => (
              <li key={s.subscriptionId}>
                <Link id={`outbound-disabled-link-${s.subscriptionId}`} className="link" href={subscriptionHref(s.subscriptionId)}>
                  <span translate="no">{s.url}</span>
                </Link>
                {s.disabledReason && (
                  <>
                    {' — '}
                    <span translate="no">{s.disabledReason}</span>
                  </>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      {list.length === 0 ? (
        <EmptyState title={t('outbound.list.emptyTitle')} action={createButton ?? <p className="muted">{t('outbound.list.emptyViewer')}</p>}>
          <p>{t('outbound.list.emptyBody')}</p>
          <ol className="steps">
            <li>{t('outbound.list.emptyStep1')}</li>
            <li>{t('outbound.list.emptyStep2')}</li>
            <li>{t('outbound.list.emptyStep3')}</li>
          </ol>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" id="outbound-list">
            <thead>
              <tr>
                <th scope="col">{t('outbound.list.colEndpoint')}</th>
                <th scope="col">{t('outbound.list.colEvents')}</th>
                <th scope="col">{t('outbound.list.colLastDelivery')}</th>
                <th scope="col">{t('outbound.list.colActive')}</th>
                <th scope="col">{t('outbound.list.colStatus')}</th>
                <th scope="col">
                  <span className="sr-only">{t('outbound.list.colMenu')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => {
                const id = s.subscriptionId;
                const last = s.lastDelivery.nodes[0];
                return (
                  <tr key={id} id={`outbound-row-${id}`}>
                    <td>
                      <div className="url-cell">
                        <Link id={`outbound-open-${id}`} href={subscriptionHref(id)} className="link url mono" translate="no">
                          {s.url}
                        </Link>
                        <CopyButton id={`outbound-copy-url-${id}`} text={s.url} label={t('outbound.list.copyUrl')} />
                      </div>
                      {s.description && (
                        <div className="cell-sub clamp" translate="no" title={s.description}>
                          {s.description}
                        </div>
                      )}
                    </td>
                    <td>
                      <EventChips patterns={s.eventTypes} max={3} />
                    </td>
                    <td>
                      {last ? (
                        <span className="chips">
                          <Link id={`outbound-last-${id}`} className="link" href={`${subscriptionHref(id)}?delivery=${last.deliveryId}`}>
                            <RelTime value={last.createdAt} />
                          </Link>
                          <Chip tone={deliveryTone(last.status)}>{t(`outbound.delivery.${last.status}`, { defaultValue: last.status })}</Chip>
                        </span>
                      ) : (
                        <span className="muted">{t('outbound.list.never')}</span>
                      )}
                    </td>
                    <td>
                      <Switch
                        id={`outbound-active-${id}`}
                        className="switch"
                        isSelected={s.isActive}
                        isDisabled={!canUpdate || setActive.isPending}
                        onChange={(active) => setActive.mutate({ id, active })}
                        aria-label={t('outbound.list.activeLabel', { url: s.url })}
                      >
                        <span className="switch-track" aria-hidden="true">
                          <span className="switch-thumb" />
                        </span>
                      </Switch>
                    </td>
                    <td>
                      <SubscriptionStatusChip subscription={s} />
                    </td>
                    <td className="cell-menu">
                      <MenuTrigger>
                        <Button id={`outbound-menu-${id}`} className="btn-icon" aria-label={t('outbound.list.menuLabel', { url: s.url })}>
                          ⋯
                        </Button>
                        <Popover className="popover" placement="bottom end">
                          <Menu
                            className="menu"
                            onAction={(key) => {
                              if (key === 'edit') setEditing(s);
                              else if (key === 'test') setTesting(s);
                              else if (key === 'rotate') setRotating(s);
                              else if (key === 'delete') setDeleting(s);
                            }}
                          >
                            {/* React Aria owns a menu item's DOM id; the stable id is on its label. */}
                            <MenuItem id="deliveries" className="menu-item" href={subscriptionHref(id)}>
                              <span id={`outbound-deliveries-${id}`}>{t('outbound.list.menuDeliveries')}</span>
                            </MenuItem>
                            {canUpdate && (
                              <MenuItem id="edit" className="menu-item">
                                <span id={`outbound-edit-${id}`}>{t('outbound.list.menuEdit')}</span>
                              </MenuItem>
                            )}
                            {canUpdate && (
                              <MenuItem id="test" className="menu-item">
                                <span id={`outbound-test-${id}`}>{t('outbound.list.menuTest')}</span>
                              </MenuItem>
                            )}
                            {canUpdate && (
                              <MenuItem id="rotate" className="menu-item">
                                <span id={`outbound-rotate-${id}`}>{t('outbound.list.menuRotate')}</span>
                              </MenuItem>
                            )}
                            {canDelete && (
                              <MenuItem id="delete" className="menu-item menu-item-danger">
                                <span id={`outbound-delete-${id}`}>{t('outbound.list.menuDelete')}</span>
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
          <SubscriptionDialog
            subscription={editing === 'new' ? null : editing}
            onClose={() => setEditing(null)}
            onCreated={(created) => {
              setEditing(null);
              setSecret(created);
            }}
          />
        )}
        {rotating && (
          <RotateDialog
            subscription={rotating}
            onClose={() => setRotating(null)}
            onRotated={(shown) => {
              setRotating(null);
              setSecret(shown);
            }}
          />
        )}
        {testing && (
          <TestEventDialog
            subscription={testing}
            onClose={() => setTesting(null)}
            onSent={(deliveryId) => {
              setTesting(null);
              navigate(`${subscriptionHref(testing.subscriptionId)}?delivery=${deliveryId}`);
            }}
          />
        )}
        {deleting && <DeleteSubscriptionDialog subscription={deleting} onClose={() => setDeleting(null)} />}
        {secret && <OutboundSecretDialog shown={secret} onClose={() => setSecret(null)} />}
      </Suspense>
    </section>
  );
}
