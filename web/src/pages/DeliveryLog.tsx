// The delivery log, across all webhooks or one: filters kept in the URL, newest first with cursor
// pagination, polled every 1.5 s (the README says why polling), a drawer per delivery
// (?delivery=<id>), and bulk replay of what the filter matches.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Dialog, Heading, Link, Modal, ModalOverlay, ProgressBar } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Chip, EmptyState, ErrorState, Field, Loading, LogPager, RelTime, SelectField, errorText, type ChipTone } from '../components/ui.tsx';
import { LOG_POLL_MS, graphql } from '../lib/api.ts';
import { summarizeOutcome } from '../lib/outcome.ts';
import { DELIVERIES_QUERY, type DeliveryRow } from '../lib/queries.ts';
import { DeliveryDrawer } from './DeliveryDrawer.tsx';
import { useWebhooks } from './InboundList.tsx';
import { usePermissions } from './Shell.tsx';

const PAGE = 25;

export function statusTone(status: string): ChipTone {
  return status === 'dispatched' ? 'ok' : status === 'failed' ? 'bad' : status === 'pending' ? 'info' : 'muted';
}

export interface DeliveryFilter {
  webhook: string;
  status: string;
  from: string;
  to: string;
  kind: string;
}

/** The filter as inboundWebhookDeliveries' condition (dates are whole days in UTC). */
export function conditionOf(f: DeliveryFilter): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  if (f.webhook) c.inboundWebhookId = f.webhook;
  if (f.status) c.dispatchStatus = f.status;
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.from)) c.receivedFrom = `${f.from}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.to)) {
    const next = new Date(`${f.to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    c.receivedBefore = next.toISOString();
  }
  if (f.kind === 'test') c.isTest = true;
  if (f.kind === 'replay') c.isReplay = true;
  if (f.kind === 'received') {
    c.isTest = false;
    c.isReplay = false;
  }
  return c;
}

export function OutcomeText({ outcome, status }: { outcome: unknown; status: string }) {
  const { t } = useTranslation();
  const summary = summarizeOutcome(outcome, status);
  if (!summary) return <span className="muted">—</span>;
  const values = { ...summary.values, ...(summary.values.entity ? { entity: t(`entityName.${summary.values.entity}`) } : {}) };
  const raw = summary.key === 'outcome.error' || summary.key === 'outcome.ticketNumber' || summary.key === 'outcome.invoiceNumber';
  return (
    <span className={summary.key === 'outcome.error' ? 'error-text clamp' : 'clamp'} title={t(summary.key, values)}>
      {raw ? (
        <>
          {t(`${summary.key}Label`)} <span translate="no">{summary.values.number ?? summary.values.error}</span>
        </>
      ) : (
        t(summary.key, values)
      )}
    </span>
  );
}

const BULK_COUNT = `query BulkCount($inboundWebhookId: UUID, $dispatchStatus: String, $isTest: Boolean, $isReplay: Boolean, $receivedFrom: Datetime, $receivedBefore: Datetime) {
  bulkReplayCount(inboundWebhookId: $inboundWebhookId, dispatchStatus: $dispatchStatus, isTest: $isTest, isReplay: $isReplay, receivedFrom: $receivedFrom, receivedBefore: $receivedBefore)
}`;
const BULK_START = `mutation BulkStart($input: StartBulkReplayInput!) { startBulkReplay(input: $input) { bulkReplay { bulkReplayId status total processed failed } } }`;
const BULK_PROGRESS = `query BulkProgress($id: UUID!) { bulkReplay(bulkReplayId: $id) { status total processed failed errorMessage } }`;

interface BulkState {
  bulkReplayId: string;
  status: string;
  total: number;
  processed: number;
  failed: number;
  errorMessage?: string | null;
}

function BulkReplayDialog({ condition, onClose }: { condition: Record<string, unknown>; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [started, setStarted] = useState<BulkState | null>(null);
  const count = useQuery({
    queryKey: ['bulk-count', condition],
    queryFn: async () => (await graphql<{ bulkReplayCount: number }>(BULK_COUNT, condition)).bulkReplayCount,
  });
  const start = useMutation({
    mutationFn: async () => (await graphql<{ startBulkReplay: { bulkReplay: BulkState } }>(BULK_START, { input: condition })).startBulkReplay.bulkReplay,
    onSuccess: setStarted,
  });
  const progress = useQuery({
    queryKey: ['bulk-progress', started?.bulkReplayId],
    queryFn: async () => (await graphql<{ bulkReplay: BulkState }>(BULK_PROGRESS, { id: started!.bulkReplayId })).bulkReplay,
    enabled: !!started && started.status === 'running',
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'running' ? false : 1000),
  });
  const state = progress.data ?? started;
  const done = state && state.status !== 'running';
  if (done) void queryClient.invalidateQueries({ queryKey: ['deliveries'] });
  return (
    <ModalOverlay isOpen isDismissable onOpenChange={(o) => !o && onClose()} className="overlay">
      <Modal className="modal modal-small">
        <Dialog className="dialog" id="bulk-replay-dialog">
          <Heading slot="title">{t('bulk.title')}</Heading>
          {!state ? (
            count.isPending ? (
              <Loading label={t('bulk.counting')} />
            ) : count.isError ? (
              <ErrorState error={count.error} onRetry={() => void count.refetch()} />
            ) : (
              <>
                <p id="bulk-replay-count">{t('bulk.confirm', { count: count.data })}</p>
                <p className="muted small">{t('bulk.explain')}</p>
                {start.isError && <p className="error-text">{errorText(t, start.error)}</p>}
              </>
            )
          ) : (
            <div className="stack">
              <ProgressBar className="progress" value={state.processed} maxValue={Math.max(1, state.total)} aria-label={t('bulk.progressLabel')}>
                <div className="progress-track">
                  <div className="progress-fill" style={{ width: `${(100 * state.processed) / Math.max(1, state.total)}%` }} />
                </div>
              </ProgressBar>
              <p id="bulk-replay-progress">{t('bulk.progress', { processed: state.processed, total: state.total, failed: state.failed })}</p>
              {state.status === 'finished' && <p className="callout callout-ok">{t('bulk.finished')}</p>}
              {state.status === 'failed' && <p className="callout callout-error">{t('bulk.failed')}</p>}
            </div>
          )}
          <div className="dialog-actions">
            <Button id="bulk-replay-close" className="btn" onPress={onClose}>
              {done || !state ? t('common.close') : t('bulk.hide')}
            </Button>
            {!state && (
              <Button id="bulk-replay-start" className="btn btn-primary" isDisabled={!count.data || start.isPending} onPress={() => start.mutate()}>
                {t('bulk.start', { count: count.data ?? 0 })}
              </Button>
            )}
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

export function DeliveryLog() {
  const { t } = useTranslation();
  const { can } = usePermissions();
  const [params, setParams] = useSearchParams();
  const filter: DeliveryFilter = {
    webhook: params.get('webhook') ?? '',
    status: params.get('status') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    kind: params.get('kind') ?? '',
  };
  const openId = params.get('delivery');
  const [bulkOpen, setBulkOpen] = useState(false);
  const setFilter = (key: keyof DeliveryFilter | 'delivery', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: key !== 'delivery' });
  };
  const hrefFor = (id: string) => {
    const next = new URLSearchParams(params);
    next.set('delivery', id);
    return `/settings/webhooks/deliveries?${next.toString()}`;
  };
  const webhooks = useWebhooks();
  const condition = conditionOf(filter);
  const deliveries = useInfiniteQuery({
    queryKey: ['deliveries', condition],
    queryFn: async ({ pageParam }) =>
      (
        await graphql<{ inboundWebhookDeliveries: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: DeliveryRow[] } }>(
          DELIVERIES_QUERY,
          { first: PAGE, after: pageParam, condition },
        )
      ).inboundWebhookDeliveries,
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.pageInfo.hasNextPage ? last.pageInfo.endCursor : undefined),
    // new deliveries and status changes show without a reload; paused while the tab is hidden
    refetchInterval: LOG_POLL_MS,
    staleTime: 0,
  });
  const rows = deliveries.data?.pages.flatMap((p) => p.nodes) ?? [];
  const total = deliveries.data?.pages[0]?.totalCount ?? 0;
  const filtered = Object.values(filter).some(Boolean);

  return (
    <section aria-labelledby="deliveries-heading">
      <div className="section-head">
        <div>
          <h2 id="deliveries-heading">{t('log.title')}</h2>
          <p className="muted">{t('log.subtitle')}</p>
        </div>
        {can('inbound_webhook:replay') && total > 0 && (
          <Button id="bulk-replay" className="btn" onPress={() => setBulkOpen(true)}>
            {t('log.bulkReplay', { count: total })}
          </Button>
        )}
      </div>
      <div className="filters" role="group" aria-label={t('log.filters')}>
        <SelectField
          id="filter-webhook"
          label={t('log.filterWebhook')}
          value={filter.webhook || 'all'}
          onChange={(v) => setFilter('webhook', v === 'all' ? '' : v)}
          choices={[{ id: 'all', label: t('log.allWebhooks') }, ...(webhooks.data ?? []).map((w) => ({ id: w.inboundWebhookId, label: w.name, raw: true }))]}
        />
        <SelectField
          id="filter-status"
          label={t('log.filterStatus')}
          value={filter.status || 'all'}
          onChange={(v) => setFilter('status', v === 'all' ? '' : v)}
          choices={['all', 'pending', 'dispatched', 'failed', 'duplicate'].map((s) => ({ id: s, label: s === 'all' ? t('log.anyStatus') : t(`dispatch.${s}`) }))}
        />
        <SelectField
          id="filter-kind"
          label={t('log.filterKind')}
          value={filter.kind || 'all'}
          onChange={(v) => setFilter('kind', v === 'all' ? '' : v)}
          choices={['all', 'received', 'test', 'replay'].map((k) => ({ id: k, label: t(`log.kind.${k}`) }))}
        />
        <Field id="filter-from" label={t('log.filterFrom')} type="date" value={filter.from} onChange={(v) => setFilter('from', v)} />
        <Field id="filter-to" label={t('log.filterTo')} type="date" value={filter.to} onChange={(v) => setFilter('to', v)} />
        {filtered && (
          <Button id="filter-clear" className="btn btn-small filter-clear" onPress={() => setParams(new URLSearchParams(), { replace: true })}>
            {t('log.clearFilters')}
          </Button>
        )}
      </div>
      {deliveries.isPending ? (
        <Loading label={t('log.loading')} />
      ) : deliveries.isError && rows.length === 0 ? (
        <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? t('log.emptyFiltered') : t('log.emptyTitle')}>
          <p>{filtered ? t('log.emptyFilteredBody') : t('log.emptyBody')}</p>
        </EmptyState>
      ) : (
        <>
          {deliveries.isError && <p className="callout callout-warn">{t('log.refreshFailed')}</p>}
          <div className="table-wrap">
            <table className="table" id="delivery-log">
              <thead>
                <tr>
                  <th scope="col">{t('log.colReceived')}</th>
                  <th scope="col">{t('log.colWebhook')}</th>
                  <th scope="col">{t('log.colStatus')}</th>
                  <th scope="col">{t('log.colHttp')}</th>
                  <th scope="col">{t('log.colLatency')}</th>
                  <th scope="col">{t('log.colOutcome')}</th>
                  <th scope="col">{t('log.colKind')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.deliveryId} id={`delivery-row-${d.deliveryId}`} className={openId === d.deliveryId ? 'row-selected' : undefined}>
                    <td>
                      <Link id={`delivery-open-${d.deliveryId}`} className="link" href={hrefFor(d.deliveryId)}>
                        <RelTime value={d.receivedAt} />
                      </Link>
                    </td>
                    <td translate="no">{d.inboundWebhook?.name ?? '—'}</td>
                    <td>
                      <Chip tone={statusTone(d.dispatchStatus)}>{t(`dispatch.${d.dispatchStatus}`, { defaultValue: d.dispatchStatus })}</Chip>
                    </td>
                    <td translate="no">{d.responseStatus ?? '—'}</td>
                    <td translate="no">{d.durationMs === null ? '—' : `${d.durationMs} ms`}</td>
                    <td>
                      <OutcomeText outcome={d.handlerOutcome} status={d.dispatchStatus} />
                    </td>
                    <td>
                      {d.isReplay && d.replayedFrom ? (
                        <Link id={`delivery-original-${d.deliveryId}`} className="link" href={hrefFor(d.replayedFrom)}>
                          {t('log.replayOf')}
                        </Link>
                      ) : d.isTest ? (
                        <Chip tone="info">{t('log.test')}</Chip>
                      ) : (
                        <span className="muted">{t('log.received')}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LogPager
            summary={t('log.showing', { shown: rows.length, total })}
            moreId="delivery-more"
            moreLabel={t('log.more')}
            hasMore={deliveries.hasNextPage}
            isLoadingMore={deliveries.isFetchingNextPage}
            onMore={() => void deliveries.fetchNextPage()}
          />
        </>
      )}
      {openId && <DeliveryDrawer deliveryId={openId} hrefFor={hrefFor} onClose={() => setFilter('delivery', '')} />}
      {bulkOpen && <BulkReplayDialog condition={condition} onClose={() => setBulkOpen(false)} />}
    </section>
  );
}
