// The sample beside the mapping fields: captured on demand (a 5-minute window, with a countdown,
// re-read every 1.5 s until a verified request lands, so the tree fills in without a reload),
// cleared, and shown as a tree whose nodes insert their path into the focused field. It may hold
// personal data (PRD open question 3): marked sensitive; the server shows it only to readers.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ErrorState, RelTime, errorText, notify } from '../components/ui.tsx';
import { SampleTree } from '../editor/SampleTree.tsx';
import { graphql } from '../lib/api.ts';
import { CLEAR_SAMPLE, START_CAPTURE, WEBHOOK_SAMPLE_QUERY, type Webhook, type WebhookSample } from '../lib/queries.ts';

const POLL_MS = 1_500;

/** The webhook's sample, re-read while its capture window is open. */
export function useWebhookSample(webhook: Webhook | null) {
  const id = webhook?.inboundWebhookId;
  return useQuery({
    queryKey: ['webhook-sample', id],
    queryFn: async () => (await graphql<{ inboundWebhook: WebhookSample | null }>(WEBHOOK_SAMPLE_QUERY, { id })).inboundWebhook,
    enabled: !!id,
    ...(webhook ? { initialData: { samplePayload: webhook.samplePayload, sampleCapturedAt: webhook.sampleCapturedAt, sampleCaptureUntil: webhook.sampleCaptureUntil } } : {}),
    refetchInterval: (q) => {
      const until = q.state.data?.sampleCaptureUntil;
      return until && new Date(until).getTime() > Date.now() ? POLL_MS : false;
    },
  });
}

function useCountdown(until: string | null | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [until]);
  return until ? Math.max(0, Math.round((new Date(until).getTime() - now) / 1000)) : 0;
}

export function SamplePanel({
  webhook,
  sample,
  canUpdate,
  onPick,
  rootPath = '',
}: {
  webhook: Webhook | null;
  sample: ReturnType<typeof useWebhookSample>;
  canUpdate: boolean;
  onPick: (path: string) => void;
  rootPath?: string;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const data = sample.data;
  const remaining = useCountdown(data?.sampleCaptureUntil);
  const listening = !!data?.sampleCaptureUntil && remaining > 0;
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhook-sample', webhook?.inboundWebhookId] });
  const capture = useMutation({
    mutationFn: () => graphql(START_CAPTURE, { id: webhook!.inboundWebhookId }),
    onSuccess: refresh,
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const clear = useMutation({
    mutationFn: () => graphql(CLEAR_SAMPLE, { id: webhook!.inboundWebhookId }),
    onSuccess: () => {
      refresh();
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
    },
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const payload = data?.samplePayload;
  const has = payload !== null && payload !== undefined;
  const minutes = Math.floor(remaining / 60);
  const seconds = String(remaining % 60).padStart(2, '0');

  return (
    <aside className="sample-panel" aria-label={t('form.sampleTitle')}>
      <div className="sample-head">
        <h4>{t('form.sampleTitle')}</h4>
        <span title={t('sample.sensitiveHint')}>
          <Chip tone="warn">{t('sample.sensitive')}</Chip>
        </span>
      </div>
      {!webhook ? (
        <p className="muted small">{t('sample.saveFirst')}</p>
      ) : (
        <>
          {canUpdate && (
            <div className="sample-actions">
              <Button id="capture-sample" className="btn btn-small" onPress={() => capture.mutate()} isDisabled={capture.isPending || listening}>
                {has ? t('sample.recapture') : t('sample.capture')}
              </Button>
              {has && (
                <Button id="clear-sample" className="btn btn-small" onPress={() => clear.mutate()} isDisabled={clear.isPending}>
                  {t('sample.clear')}
                </Button>
              )}
            </div>
          )}
          {listening && (
            <p className="callout callout-info small" id="sample-listening" role="status">
              <span className="spinner spinner-small" aria-hidden="true" /> {t('sample.listening')}{' '}
              <span translate="no" className="mono">
                {minutes}:{seconds}
              </span>
            </p>
          )}
          {sample.isError && <ErrorState error={sample.error} onRetry={() => void sample.refetch()} id="sample-retry" />}
          {has ? (
            <>
              <p className="muted small">
                {data?.sampleCapturedAt ? (
                  <>
                    {t('sample.capturedAt')} <RelTime value={data.sampleCapturedAt} />.{' '}
                  </>
                ) : null}
                {t('sample.pickHint')}
              </p>
              <SampleTree sample={payload} root={rootPath} onPick={onPick} />
            </>
          ) : (
            !listening && <p className="muted small">{t('form.sampleNone')}</p>
          )}
        </>
      )}
    </aside>
  );
}
