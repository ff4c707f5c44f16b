// One subscription: what it sends where, the notice when Intake turned it off (with the reason) or
// while it is failing, its actions (send test event, recover, edit, rotate secret), and its
// delivery log — filters in the URL, newest first, polled, a drawer per delivery (?delivery=<id>).
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { Button, Link } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { Chip, EmptyState, ErrorState, Field, Loading, LogPager, RelTime, SelectField, errorText, notify } from '../../components/ui.tsx';
import { LOG_POLL_MS, graphql } from '../../lib/api.ts';
import { intlLocale } from '../../lib/i18n.ts';
import { deliveryCondition, deliveryTone, type OutboundDeliveryFilter } from '../../lib/outbound.ts';
import { DELIVERIES_QUERY, UPDATE_SUBSCRIPTION, type OutboundDeliveryRow, type OutboundSubscriptionDetail } from '../../lib/outboundQueries.ts';
import { formatExact } from '../../lib/time.ts';
import { usePermissions } from '../Shell.tsx';
import { subscriptionHref, useEventTypes, useRefreshOutbound, useSubscription } from './data.ts';
import type { ShownOutboundSecret } from './dialogs.tsx';
import { EventChips, SubscriptionStatusChip } from './OutboundList.tsx';

const SubscriptionDialog = lazy(() => import('./SubscriptionDialog.tsx').then((m) => ({ default: m.SubscriptionDialog })));
const OutboundDeliveryDrawer = lazy(() => import('./OutboundDeliveryDrawer.tsx').then((m) => ({ default: m.OutboundDeliveryDrawer })));
const OutboundSecretDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.OutboundSecretDialog })));
const RotateDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.RotateDialog })));
const TestEventDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.TestEventDialog })));
const RecoverDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.RecoverDialog })));
const DeleteSubscriptionDialog = lazy(() => import('./dialogs.tsx').then((m) => ({ default: m.DeleteSubscriptionDialog })));

const PAGE = 25;

function ExactTime({ value }: { value: string }) {
  return (
    <time translate="no" dateTime={value}>
      {formatExact(value, intlLocale())}
    </time>
  );
}

/** What Intake did and why, and the way back: turn it on again, then recover what failed meanwhile. */
function Notices({ s, onRecover }: { s: OutboundSubscriptionDetail; onRecover: () => void }) {
  const { t } = useTranslation();
  const { can } = usePermissions();
  const refresh = useRefreshOutbound();
  const reenable = useMutation({
    mutationFn: () => graphql(UPDATE_SUBSCRIPTION, { id: s.subscriptionId, patch: { isActive: true } }),
    onSuccess: () => notify(t('outbound.page.reenabled')),
    onSettled: refresh,
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const recovery = s.recoveries.nodes[0];
  return (
    <>
      {!s.isActive && s.autoDisabledAt && (
        <div className="callout callout-error notice" role="alert" id="outbound-disabled-notice">
          <strong>{t('outbound.page.disabledTitle')}</strong>
          <p>
            {t('outbound.page.disabledAt')} <ExactTime value={s.autoDisabledAt} />.{' '}
            {s.disabledReason && (
              <>
                {t('outbound.page.reason')} <span translate="no" id="outbound-disabled-reason">{s.disabledReason}</span>
              </>
            )}
          </p>
          <p>{t('outbound.page.disabledNext')}</p>
          {can('outbound_webhook:update') && (
            <div className="notice-actions">
              <Button id="outbound-reenable" className="btn" isDisabled={reenable.isPending} onPress={() => reenable.mutate()}>
                {t('outbound.page.reenable')}
              </Button>
            </div>
          )}
        </div>
      )}
      {!s.isActive && !s.autoDisabledAt && (
        <p className="callout" id="outbound-inactive-notice">
          {t('outbound.page.inactive')}
        </p>
      )}
      {s.isActive && s.failingSince && (
        <div className="callout callout-warn notice" id="outbound-failing-notice">
          <strong>
            {t('outbound.page.failingTitle')} <RelTime value={s.failingSince} />
          </strong>
          <p>{t('outbound.page.failingBody')}</p>
        </div>
      )}
      {s.isActive && recovery?.status === 'running' && (
        <p className="callout callout-info" id="outbound-recovery-running" role="status">
          {t('outbound.page.recovering', { processed: recovery.processed, total: recovery.total })}{' '}
          <Button id="outbound-recovery-open" className="btn btn-small" onPress={onRecover}>
            {t('outbound.page.recoveringOpen')}
          </Button>
        </p>
      )}
    </>
  );
}

function DeliveryLog({ subscription }: { subscription: OutboundSubscriptionDetail }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const eventTypes = useEventTypes();
  const filter: OutboundDeliveryFilter = {
    status: params.get('status') ?? '',
    eventType: params.get('type') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const openId = params.get('delivery');
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: key !== 'delivery' });
  };
  const hrefFor = (id: string) => {
    const next = new URLSearchParams(params);
    next.set('delivery', id);
    return `${subscriptionHref(subscription.subscriptionId)}?${next.toString()}`;
  };
  const condition = deliveryCondition(subscription.subscriptionId, filter);
  const deliveries = useInfiniteQuery({
    queryKey: ['outbound', 'deliveries', condition],
    queryFn: async ({ pageParam }) =>
      (
        await graphql<{ outboundDeliveries: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: OutboundDeliveryRow[] } }>(
          DELIVERIES_QUERY,
          { first: PAGE, after: pageParam, condition },
        )
      ).outboundDeliveries,
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.pageInfo.hasNextPage ? last.pageInfo.endCursor : undefined),
    refetchInterval: LOG_POLL_MS,
    staleTime: 0,
  });
  const rows = deliveries.data?.pages.flatMap((p) => p.nodes) ?? [];
  const total = deliveries.data?.pages[0]?.totalCount ?? 0;
  const filtered = Boolean(filter.status || filter.eventType || filter.from || filter.to);

  return (
    <section aria-labelledby="outbound-log-heading" className="log-section">
      <h3 id="outbound-log-heading">{t('outbound.log.title')}</h3>
      <div className="filters filters-4" role="group" aria-label={t('outbound.log.filters')}>
        <SelectField
          id="outbound-filter-status"
          label={t('outbound.log.filterStatus')}
          value={filter.status || 'all'}
          onChange={(v) => setParam('status', v === 'all' ? '' : v)}
          choices={['all', 'pending', 'succeeded', 'failed'].map((s) => ({ id: s, label: s === 'all' ? t('outbound.log.anyStatus') : t(`outbound.delivery.${s}`) }))}
        />
        <SelectField
          id="outbound-filter-type"
          label={t('outbound.log.filterType')}
          value={filter.eventType || 'all'}
          onChange={(v) => setParam('type', v === 'all' ? '' : v)}
          choices={[
            { id: 'all', label: t('outbound.log.anyType') },
            ...(eventTypes.data ?? []).map((e) => ({ id: e.name, label: e.name, raw: true, section: t(`outbound.entity.${e.entity}`, { defaultValue: e.entity }) })),
          ]}
        />
        <Field id="outbound-filter-from" label={t('outbound.log.filterFrom')} type="date" value={filter.from} onChange={(v) => setParam('from', v)} />
        <Field id="outbound-filter-to" label={t('outbound.log.filterTo')} type="date" value={filter.to} onChange={(v) => setParam('to', v)} />
        {filtered && (
          <Button
            id="outbound-filter-clear"
            className="btn btn-small filter-clear"
            onPress={() => {
              const next = new URLSearchParams();
              if (openId) next.set('delivery', openId);
              setParams(next, { replace: true });
            }}
          >
            {t('outbound.log.clearFilters')}
          </Button>
        )}
      </div>
      {deliveries.isPending ? (
        <Loading label={t('outbound.log.loading')} />
      ) : deliveries.isError && rows.length === 0 ? (
        <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? t('outbound.log.emptyFiltered') : t('outbound.log.emptyTitle')}>
          <p>{filtered ? t('outbound.log.emptyFilteredBody') : t('outbound.log.emptyBody')}</p>
        </EmptyState>
      ) : (
        <>
          {deliveries.isError && <p className="callout callout-warn">{t('outbound.log.refreshFailed')}</p>}
          <div className="table-wrap">
            <table className="table" id="outbound-delivery-log">
              <thead>
                <tr>
                  <th scope="col">{t('outbound.log.colCreated')}</th>
                  <th scope="col">{t('outbound.log.colType')}</th>
                  <th scope="col">{t('outbound.log.colStatus')}</th>
                  <th scope="col">{t('outbound.log.colAttempts')}</th>
                  <th scope="col">{t('outbound.log.colLast')}</th>
                  <th scope="col">{t('outbound.log.colNext')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.deliveryId} id={`outbound-delivery-row-${d.deliveryId}`} className={openId === d.deliveryId ? 'row-selected' : undefined}>
                    <td>
                      <Link id={`outbound-delivery-open-${d.deliveryId}`} className="link" href={hrefFor(d.deliveryId)}>
                        <RelTime value={d.createdAt} />
                      </Link>
                    </td>
                    <td>
                      <code translate="no">{d.eventType}</code> {d.event?.isTest && <Chip tone="info">{t('outbound.log.test')}</Chip>}
                    </td>
                    <td>
                      <Chip tone={deliveryTone(d.status)}>{t(`outbound.delivery.${d.status}`, { defaultValue: d.status })}</Chip>
                    </td>
                    <td translate="no">{d.attemptCount}</td>
                    <td>
                      {d.lastResponseStatus !== null ? (
                        <span translate="no">HTTP {d.lastResponseStatus}</span>
                      ) : d.lastError ? (
                        <span className="error-text clamp" translate="no" title={d.lastError}>
                          {d.lastError}
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>{d.status === 'pending' && d.nextAttemptAt ? <RelTime value={d.nextAttemptAt} /> : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LogPager
            summary={t('outbound.log.showing', { shown: rows.length, total })}
            moreId="outbound-delivery-more"
            moreLabel={t('outbound.log.more')}
            hasMore={deliveries.hasNextPage}
            isLoadingMore={deliveries.isFetchingNextPage}
            onMore={() => void deliveries.fetchNextPage()}
          />
        </>
      )}
      {openId && (
        <Suspense fallback={null}>
          <OutboundDeliveryDrawer deliveryId={openId} onClose={() => setParam('delivery', '')} />
        </Suspense>
      )}
    </section>
  );
}

export function SubscriptionPage() {
  const { t } = useTranslation();
  const { subscriptionId = '' } = useParams();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const { can } = usePermissions();
  const subscription = useSubscription(subscriptionId);
  const [dialog, setDialog] = useState<'edit' | 'rotate' | 'test' | 'recover' | 'delete' | null>(null);
  const [secret, setSecret] = useState<ShownOutboundSecret | null>(null);

  const back = (
    <Link id="outbound-back" className="link back-link" href="/settings/webhooks/outbound">
      {t('outbound.page.back')}
    </Link>
  );
  if (subscription.isPending) return <Loading label={t('common.loading')} />;
  if (subscription.isError) return <ErrorState error={subscription.error} onRetry={() => void subscription.refetch()} />;
  const s = subscription.data;
  if (!s) {
    return (
      <>
        {back}
        <EmptyState title={t('outbound.page.notFound')}>
          <p>{t('outbound.page.notFoundBody')}</p>
        </EmptyState>
      </>
    );
  }
  const canUpdate = can('outbound_webhook:update');
  const canReplay = can('outbound_webhook:replay');
  const canDelete = can('outbound_webhook:delete');
  const headers = Object.entries(s.headers ?? {});
  const overlapping = s.secretExpiresAt && new Date(s.secretExpiresAt).getTime() > Date.now();

  return (
    <section aria-labelledby="outbound-subscription-heading">
      {back}
      <div className="section-head">
        <div className="min-0">
          <h2 id="outbound-subscription-heading" className="url-title" translate="no">
            {s.url}
          </h2>
          {s.description && (
            <p className="muted" translate="no">
              {s.description}
            </p>
          )}
        </div>
        <div className="head-actions">
          {canUpdate && (
            <Button id="outbound-test" className="btn" onPress={() => setDialog('test')}>
              {t('outbound.page.sendTest')}
            </Button>
          )}
          {canReplay && (
            <Button id="outbound-recover" className="btn" onPress={() => setDialog('recover')}>
              {t('outbound.page.recover')}
            </Button>
          )}
          {canUpdate && (
            <Button id="outbound-rotate" className="btn" onPress={() => setDialog('rotate')}>
              {t('outbound.page.rotate')}
            </Button>
          )}
          {canUpdate && (
            <Button id="outbound-edit" className="btn btn-primary" onPress={() => setDialog('edit')}>
              {t('outbound.page.edit')}
            </Button>
          )}
        </div>
      </div>
      <Notices s={s} onRecover={() => setDialog('recover')} />
      <dl className="facts facts-4" id="outbound-facts">
        <div>
          <dt>{t('outbound.page.status')}</dt>
          <dd>
            <SubscriptionStatusChip subscription={s} />
          </dd>
        </div>
        <div>
          <dt>{t('outbound.page.events')}</dt>
          <dd>
            <EventChips patterns={s.eventTypes} max={8} />
          </dd>
        </div>
        <div>
          <dt>{t('outbound.page.secret')}</dt>
          <dd id="outbound-secret-state">
            {overlapping ? (
              <>
                {t('outbound.page.secretOverlap')} <ExactTime value={s.secretExpiresAt!} />
              </>
            ) : (
              t('outbound.page.secretOne')
            )}
          </dd>
        </div>
        <div>
          <dt>{t('outbound.page.rateLimit')}</dt>
          <dd>{s.rateLimitPerMinute ? t('outbound.page.perMinute', { count: s.rateLimitPerMinute }) : t('outbound.page.noLimit')}</dd>
        </div>
        <div>
          <dt>{t('outbound.page.headers')}</dt>
          <dd>
            {headers.length === 0 ? (
              <span className="muted">{t('outbound.page.noHeaders')}</span>
            ) : (
              <span className="chips">
                {headers.map(([name]) => (
                  <Chip key={name} tone="muted">
                    <span translate="no">{name}</span>
                  </Chip>
                ))}
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>{t('outbound.page.created')}</dt>
          <dd>
            <RelTime value={s.createdAt} />
          </dd>
        </div>
      </dl>
      <DeliveryLog subscription={s} />
      {canDelete && (
        <div className="danger-zone">
          <Button id="outbound-delete" className="btn btn-small" onPress={() => setDialog('delete')}>
            {t('outbound.page.delete')}
          </Button>
        </div>
      )}
      <Suspense fallback={null}>
        {dialog === 'edit' && (
          <SubscriptionDialog subscription={s} onClose={() => setDialog(null)} onCreated={() => setDialog(null)} />
        )}
        {dialog === 'rotate' && (
          <RotateDialog
            subscription={s}
            onClose={() => setDialog(null)}
            onRotated={(shown) => {
              setDialog(null);
              setSecret(shown);
            }}
          />
        )}
        {dialog === 'test' && (
          <TestEventDialog
            subscription={s}
            onClose={() => setDialog(null)}
            onSent={(deliveryId) => {
              setDialog(null);
              const next = new URLSearchParams(params);
              next.set('delivery', deliveryId);
              setParams(next);
            }}
          />
        )}
        {dialog === 'recover' && <RecoverDialog subscription={s} onClose={() => setDialog(null)} />}
        {dialog === 'delete' && (
          <DeleteSubscriptionDialog subscription={s} onClose={() => setDialog(null)} onDeleted={() => navigate('/settings/webhooks/outbound')} />
        )}
        {secret && <OutboundSecretDialog shown={secret} onClose={() => setSecret(null)} />}
      </Suspense>
    </section>
  );
}
