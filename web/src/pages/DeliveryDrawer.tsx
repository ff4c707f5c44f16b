// One delivery in a drawer: Request (pretty body, raw toggle), Headers, Response, Outcome, Error;
// Replay with a confirmation, then a link to the new delivery; the replays of this one.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Label, Link, Radio, RadioGroup, Switch, Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ConfirmDialog, Drawer, ErrorState, HeadersTable, JsonBlock, Loading, RelTime, errorText, notify } from '../components/ui.tsx';
import { graphql } from '../lib/api.ts';
import { DELIVERY_QUERY, REPLAY_DELIVERY, USE_AS_SAMPLE, type DeliveryDetail } from '../lib/queries.ts';
import { OutcomeText, statusTone } from './DeliveryLog.tsx';
import { usePermissions } from './Shell.tsx';

export function DeliveryDrawer({ deliveryId, hrefFor, onClose }: { deliveryId: string; hrefFor: (id: string) => string; onClose: () => void }) {
  const { t } = useTranslation();
  const { can } = usePermissions();
  const queryClient = useQueryClient();
  const [raw, setRaw] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [replayed, setReplayed] = useState<string | null>(null);
  const [configuration, setConfiguration] = useState<'CURRENT' | 'DISPATCHED'>('CURRENT');
  const delivery = useQuery({
    queryKey: ['delivery', deliveryId],
    queryFn: async () => (await graphql<{ inboundWebhookDelivery: DeliveryDetail | null }>(DELIVERY_QUERY, { id: deliveryId })).inboundWebhookDelivery,
    refetchInterval: (q) => (q.state.data?.dispatchStatus === 'pending' ? 1500 : false),
  });
  const replay = useMutation({
    mutationFn: async () =>
      (await graphql<{ replayInboundWebhookDelivery: { inboundWebhookDelivery: { deliveryId: string } } }>(REPLAY_DELIVERY, { id: deliveryId, configuration }))
        .replayInboundWebhookDelivery.inboundWebhookDelivery.deliveryId,
    onSuccess: (id) => {
      setConfirming(false);
      setReplayed(id);
      void queryClient.invalidateQueries({ queryKey: ['deliveries'] });
      void queryClient.invalidateQueries({ queryKey: ['delivery', deliveryId] });
    },
  });
  const useAsSample = useMutation({
    mutationFn: () => graphql(USE_AS_SAMPLE, { id: deliveryId }),
    onSuccess: () => {
      notify(t('sample.usedAsSample'));
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      void queryClient.invalidateQueries({ queryKey: ['webhook-sample'] });
    },
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const d = delivery.data;
  return (
    <Drawer id="delivery-drawer" title={t('drawer.title')} closeId="delivery-close" onClose={onClose}>
          {delivery.isPending ? (
            <Loading label={t('common.loading')} />
          ) : delivery.isError ? (
            <ErrorState error={delivery.error} onRetry={() => void delivery.refetch()} />
          ) : !d ? (
            <p className="callout">{t('drawer.notFound')}</p>
          ) : (
            <>
              <dl className="facts">
                <div>
                  <dt>{t('drawer.webhook')}</dt>
                  <dd translate="no">{d.inboundWebhook?.name ?? '—'}</dd>
                </div>
                <div>
                  <dt>{t('drawer.received')}</dt>
                  <dd>
                    <RelTime value={d.receivedAt} />
                  </dd>
                </div>
                <div>
                  <dt>{t('drawer.status')}</dt>
                  <dd>
                    <Chip tone={statusTone(d.dispatchStatus)}>{t(`dispatch.${d.dispatchStatus}`, { defaultValue: d.dispatchStatus })}</Chip>
                  </dd>
                </div>
                <div>
                  <dt>{t('drawer.latency')}</dt>
                  <dd translate="no">{d.durationMs === null ? '—' : `${d.durationMs} ms`}</dd>
                </div>
                <div>
                  <dt>{t('drawer.configVersion')}</dt>
                  <dd id="delivery-config-version">{d.configVersion === null ? t('drawer.notDispatched') : t('drawer.configVersionValue', { version: d.configVersion })}</dd>
                </div>
                <div>
                  <dt>{t('drawer.outcome')}</dt>
                  <dd>
                    <OutcomeText outcome={d.handlerOutcome} status={d.dispatchStatus} />
                  </dd>
                </div>
              </dl>
              {d.isReplay && d.replayedFrom && (
                <p className="callout">
                  {t('drawer.isReplay')}{' '}
                  <Link id="delivery-replayed-from" className="link" href={hrefFor(d.replayedFrom)}>
                    {t('drawer.openOriginal')}
                  </Link>
                </p>
              )}
              {d.isTest && <p className="callout callout-info">{t('drawer.isTest')}</p>}
              {(can('inbound_webhook:replay') || can('inbound_webhook:update')) && (
                <div className="drawer-actions">
                  {can('inbound_webhook:replay') && (
                    <Button id="delivery-replay" className="btn" onPress={() => setConfirming(true)}>
                      {t('drawer.replay')}
                    </Button>
                  )}
                  {can('inbound_webhook:update') && d.requestBody !== null && (
                    <Button id="delivery-use-as-sample" className="btn" onPress={() => useAsSample.mutate()} isDisabled={useAsSample.isPending}>
                      {t('sample.useAsSample')}
                    </Button>
                  )}
                  {replayed && (
                    <span className="callout callout-ok" role="status">
                      {t('drawer.replayed')}{' '}
                      <Link id="delivery-replay-new" className="link" href={hrefFor(replayed)}>
                        {t('drawer.openReplay')}
                      </Link>
                    </span>
                  )}
                </div>
              )}
              <Tabs className="drawer-tabs">
                <TabList aria-label={t('drawer.tabsLabel')} className="tabs tabs-small">
                  <Tab id="request" className="tab">
                    <span id="delivery-tab-request">{t('drawer.request')}</span>
                  </Tab>
                  <Tab id="headers" className="tab">
                    <span id="delivery-tab-headers">{t('drawer.headers')}</span>
                  </Tab>
                  <Tab id="response" className="tab">
                    <span id="delivery-tab-response">{t('drawer.response')}</span>
                  </Tab>
                  <Tab id="outcome" className="tab">
                    <span id="delivery-tab-outcome">{t('drawer.outcomeTab')}</span>
                  </Tab>
                  <Tab id="error" className="tab">
                    <span id="delivery-tab-error">{t('drawer.error')}</span>
                  </Tab>
                </TabList>
                <TabPanel id="request" className="tab-panel">
                  <div className="panel-bar">
                    <span className="muted small" translate="no">
                      {d.requestMethod} {d.requestPath} · {d.contentType ?? ''} · {d.sourceIp ?? ''}
                    </span>
                    <Switch id="delivery-raw" className="switch switch-labelled" isSelected={raw} onChange={setRaw}>
                      <span className="switch-track" aria-hidden="true">
                        <span className="switch-thumb" />
                      </span>
                      {t('drawer.raw')}
                    </Switch>
                  </div>
                  <JsonBlock id="delivery-body" value={raw ? (d.requestBodyText ?? JSON.stringify(d.requestBody)) : (d.requestBody ?? d.requestBodyText ?? '')} />
                </TabPanel>
                <TabPanel id="headers" className="tab-panel">
                  <HeadersTable headers={d.requestHeaders} />
                </TabPanel>
                <TabPanel id="response" className="tab-panel">
                  <p>
                    {t('drawer.httpAnswer')} <strong translate="no">{d.responseStatus ?? '—'}</strong>
                  </p>
                  <JsonBlock value={d.responseBody ?? ''} />
                </TabPanel>
                <TabPanel id="outcome" className="tab-panel">
                  {d.handlerOutcome ? <JsonBlock value={d.handlerOutcome} /> : <p className="muted">{t('drawer.noOutcome')}</p>}
                  {d.workflowRuns.nodes.length > 0 && (
                    <p>
                      {t('drawer.workflowRun')} <code translate="no">{d.workflowRuns.nodes[0]!.runId}</code> ·{' '}
                      <span translate="no">{d.workflowRuns.nodes[0]!.status}</span>
                    </p>
                  )}
                </TabPanel>
                <TabPanel id="error" className="tab-panel">
                  {d.errorMessage ? (
                    <p className="callout callout-error" translate="no">
                      {d.errorMessage}
                    </p>
                  ) : (
                    <p className="muted">{t('drawer.noError')}</p>
                  )}
                  {d.retryCount > 0 && <p className="muted">{t('drawer.retries', { count: d.retryCount })}</p>}
                </TabPanel>
              </Tabs>
              <section className="replays">
                <h3>{t('drawer.replaysTitle')}</h3>
                {d.replays.nodes.length === 0 ? (
                  <p className="muted small">{t('drawer.noReplays')}</p>
                ) : (
                  <ul id="delivery-replays">
                    {d.replays.nodes.map((r) => (
                      <li key={r.deliveryId}>
                        <Link id={`delivery-replay-link-${r.deliveryId}`} className="link" href={hrefFor(r.deliveryId)}>
                          <RelTime value={r.receivedAt} />
                        </Link>{' '}
                        <Chip tone={statusTone(r.dispatchStatus)}>{t(`dispatch.${r.dispatchStatus}`, { defaultValue: r.dispatchStatus })}</Chip>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </>
          )}
      {confirming && (
        <ConfirmDialog
          id="replay-confirm-dialog"
          title={t('drawer.replayConfirmTitle')}
          body={t('drawer.replayConfirmBody')}
          confirmLabel={t('drawer.replayConfirm')}
          confirmId="delivery-replay-confirm"
          cancelId="delivery-replay-cancel"
          onConfirm={() => replay.mutate()}
          onCancel={() => setConfirming(false)}
          isPending={replay.isPending}
          error={replay.isError ? replay.error : null}
        >
          <RadioGroup className="radio-group" value={configuration} onChange={(v) => setConfiguration(v as 'CURRENT' | 'DISPATCHED')} id="delivery-replay-configuration">
            <Label className="field-label">{t('drawer.replayWith')}</Label>
            <Radio value="CURRENT" className="radio" id="delivery-replay-current">
              {t('drawer.replayCurrent')}
            </Radio>
            <Radio value="DISPATCHED" className="radio" id="delivery-replay-dispatched" isDisabled={d?.configVersion === null || d?.configVersion === undefined}>
              {t('drawer.replayDispatched', { version: d?.configVersion ?? '—' })}
            </Radio>
          </RadioGroup>
        </ConfirmDialog>
      )}
    </Drawer>
  );
}
