// One outbound delivery in the inbound log's drawer: what was sent (the event's body, its
// webhook-id), the attempts timeline (each attempt's trigger, time, duration and answer; the next
// one if scheduled), the chosen attempt's request, response and error; "Retry now" with a
// confirmation (same webhook-id, so receivers dedupe it).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ConfirmDialog, CopyableValue, Drawer, ErrorState, HeadersTable, JsonBlock, Loading, RelTime } from '../../components/ui.tsx';
import { LOG_POLL_MS, graphql } from '../../lib/api.ts';
import { attemptOutcome, deliveryTone } from '../../lib/outbound.ts';
import { DELIVERY_QUERY, RETRY_DELIVERY, type OutboundAttempt, type OutboundDeliveryDetail } from '../../lib/outboundQueries.ts';
import { usePermissions } from '../Shell.tsx';

function AttemptTimeline({ d, selected, onSelect }: { d: OutboundDeliveryDetail; selected: OutboundAttempt | undefined; onSelect: (n: number) => void }) {
  const { t } = useTranslation();
  const attempts = d.attempts.nodes;
  return (
    <section className="timeline-section" aria-labelledby="outbound-attempts-heading">
      <h3 id="outbound-attempts-heading">{t('outbound.drawer.attempts')}</h3>
      {attempts.length === 0 && d.status !== 'pending' ? (
        <p className="muted small">{t('outbound.drawer.noAttempts')}</p>
      ) : (
        <ol className="timeline" id="outbound-attempts">
          {attempts.map((a) => {
            const outcome = attemptOutcome(a);
            const isSelected = selected?.attemptId === a.attemptId;
            return (
              <li key={a.attemptId} className={`timeline-item timeline-${outcome.tone}${isSelected ? ' timeline-selected' : ''}`}>
                <span className="timeline-dot" aria-hidden="true" />
                <Button id={`outbound-attempt-${a.attemptNumber}`} className="timeline-button" onPress={() => onSelect(a.attemptNumber)} aria-pressed={isSelected}>
                  <span className="timeline-title">
                    {t('outbound.drawer.attemptN', { n: a.attemptNumber })}
                    <Chip tone="muted">{t(`outbound.trigger.${a.trigger}`, { defaultValue: a.trigger })}</Chip>
                  </span>
                  <span className="timeline-meta">
                    <RelTime value={a.startedAt} />
                    {a.durationMs !== null && <span translate="no"> · {a.durationMs} ms</span>}
                  </span>
                  <span className="timeline-outcome">
                    {a.responseStatus !== null ? (
                      <Chip tone={outcome.tone}>
                        <span translate="no">{outcome.text}</span>
                      </Chip>
                    ) : (
                      <span className="error-text small clamp" translate="no" title={outcome.text}>
                        {outcome.text}
                      </span>
                    )}
                  </span>
                </Button>
              </li>
            );
          })}
          {d.status === 'pending' && (
            <li className="timeline-item timeline-next" id="outbound-attempt-next">
              <span className="timeline-dot" aria-hidden="true" />
              <span className="timeline-button">
                <span className="timeline-title">{attempts.length === 0 ? t('outbound.drawer.firstAttempt') : t('outbound.drawer.nextAttempt')}</span>
                <span className="timeline-meta">{d.nextAttemptAt ? <RelTime value={d.nextAttemptAt} /> : t('outbound.drawer.soon')}</span>
              </span>
            </li>
          )}
        </ol>
      )}
    </section>
  );
}

function AttemptDetail({ a, payload }: { a: OutboundAttempt | undefined; payload: unknown }) {
  const { t } = useTranslation();
  return (
    <Tabs className="drawer-tabs">
      <TabList aria-label={t('outbound.drawer.tabsLabel')} className="tabs tabs-small">
        <Tab id="request" className="tab">
          <span id="outbound-delivery-tab-request">{t('outbound.drawer.request')}</span>
        </Tab>
        <Tab id="response" className="tab">
          <span id="outbound-delivery-tab-response">{t('outbound.drawer.response')}</span>
        </Tab>
        <Tab id="error" className="tab">
          <span id="outbound-delivery-tab-error">{t('outbound.drawer.error')}</span>
        </Tab>
      </TabList>
      <TabPanel id="request" className="tab-panel stack-tight">
        {a && (
          <p className="muted small" translate="no">
            POST {a.requestUrl}
          </p>
        )}
        {a && <HeadersTable headers={a.requestHeaders} id="outbound-request-headers" />}
        <JsonBlock id="outbound-delivery-body" value={payload} />
      </TabPanel>
      <TabPanel id="response" className="tab-panel stack-tight">
        {!a ? (
          <p className="muted">{t('outbound.drawer.noAttemptYet')}</p>
        ) : a.responseStatus === null ? (
          <p className="muted">{t('outbound.drawer.noResponse')}</p>
        ) : (
          <>
            <p>
              {t('outbound.drawer.httpAnswer')} <strong translate="no">{a.responseStatus}</strong>
            </p>
            <HeadersTable headers={a.responseHeaders} id="outbound-response-headers" />
            <JsonBlock id="outbound-response-body" value={a.responseBody ?? ''} />
          </>
        )}
      </TabPanel>
      <TabPanel id="error" className="tab-panel">
        {a?.errorMessage ? (
          <p className="callout callout-error" translate="no" id="outbound-attempt-error">
            {a.errorMessage}
          </p>
        ) : a && !a.succeeded && a.responseStatus !== null ? (
          <p className="callout callout-error">{t('outbound.drawer.notTwoHundred', { status: a.responseStatus })}</p>
        ) : (
          <p className="muted">{t('outbound.drawer.noError')}</p>
        )}
      </TabPanel>
    </Tabs>
  );
}

export function OutboundDeliveryDrawer({ deliveryId, onClose }: { deliveryId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { can } = usePermissions();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [chosen, setChosen] = useState<number | null>(null);
  const delivery = useQuery({
    queryKey: ['outbound', 'delivery', deliveryId],
    queryFn: async () => (await graphql<{ outboundDelivery: OutboundDeliveryDetail | null }>(DELIVERY_QUERY, { id: deliveryId })).outboundDelivery,
    refetchInterval: (q) => (q.state.data?.status === 'pending' ? LOG_POLL_MS : false),
  });
  const retry = useMutation({
    mutationFn: () => graphql(RETRY_DELIVERY, { id: deliveryId }),
    onSuccess: () => {
      setConfirming(false);
      setChosen(null); // follow the newest attempt
      void queryClient.invalidateQueries({ queryKey: ['outbound'] });
    },
  });
  const d = delivery.data;
  const attempts = d?.attempts.nodes ?? [];
  const selected = attempts.find((a) => a.attemptNumber === chosen) ?? attempts[attempts.length - 1];
  return (
    <Drawer id="outbound-delivery-drawer" title={t('outbound.drawer.title')} closeId="outbound-delivery-close" onClose={onClose}>
      {delivery.isPending ? (
        <Loading label={t('common.loading')} />
      ) : delivery.isError ? (
        <ErrorState error={delivery.error} onRetry={() => void delivery.refetch()} />
      ) : !d ? (
        <p className="callout">{t('outbound.drawer.notFound')}</p>
      ) : (
        <>
          <dl className="facts">
            <div>
              <dt>{t('outbound.drawer.eventType')}</dt>
              <dd>
                <code translate="no">{d.eventType}</code>
              </dd>
            </div>
            <div>
              <dt>{t('outbound.drawer.created')}</dt>
              <dd>
                <RelTime value={d.createdAt} />
              </dd>
            </div>
            <div>
              <dt>{t('outbound.drawer.status')}</dt>
              <dd>
                <Chip tone={deliveryTone(d.status)}>
                  <span id="outbound-delivery-status">{t(`outbound.delivery.${d.status}`, { defaultValue: d.status })}</span>
                </Chip>
              </dd>
            </div>
            <div>
              <dt>{t('outbound.drawer.attemptCount')}</dt>
              <dd translate="no">{d.attemptCount}</dd>
            </div>
            <div>
              <dt>{d.succeededAt ? t('outbound.drawer.delivered') : t('outbound.drawer.entity')}</dt>
              <dd>
                {d.succeededAt ? (
                  <RelTime value={d.succeededAt} />
                ) : d.event?.entityType ? (
                  <span translate="no">
                    {d.event.entityType} · v{d.event.entityVersion}
                  </span>
                ) : (
                  <span className="muted">—</span>
                )}
              </dd>
            </div>
          </dl>
          <CopyableValue id="outbound-delivery-webhook-id" label={t('outbound.drawer.webhookId')} value={d.eventId} copyLabel={t('outbound.drawer.copyWebhookId')} />
          <p className="muted small">{t('outbound.drawer.webhookIdHint')}</p>
          {d.event?.isTest && <p className="callout callout-info">{t('outbound.drawer.isTest')}</p>}
          {d.status === 'failed' && d.lastError && (
            <p className="callout callout-error">
              {t('outbound.drawer.gaveUp')} <span translate="no">{d.lastError}</span>
            </p>
          )}
          {can('outbound_webhook:replay') && (
            <div className="drawer-actions">
              <Button id="outbound-retry" className="btn" onPress={() => setConfirming(true)}>
                {t('outbound.drawer.retry')}
              </Button>
            </div>
          )}
          {retry.isSuccess && d.status === 'pending' && (
            <p className="callout callout-ok" role="status" id="outbound-retry-queued">
              {t('outbound.drawer.retryQueued')}
            </p>
          )}
          <AttemptTimeline d={d} selected={selected} onSelect={setChosen} />
          <AttemptDetail a={selected} payload={d.event?.payload ?? null} />
        </>
      )}
      {confirming && (
        <ConfirmDialog
          id="outbound-retry-dialog"
          title={t('outbound.drawer.retryTitle')}
          body={t('outbound.drawer.retryBody')}
          confirmLabel={t('outbound.drawer.retryConfirm')}
          confirmId="outbound-retry-confirm"
          cancelId="outbound-retry-cancel"
          onConfirm={() => retry.mutate()}
          onCancel={() => setConfirming(false)}
          isPending={retry.isPending}
          error={retry.isError ? retry.error : null}
        />
      )}
    </Drawer>
  );
}
