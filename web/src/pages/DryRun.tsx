// Test before saving: the input the previews and the dry run use (the sample, or one of this
// webhook's last 50 deliveries), and the server's dry run of the draft (previewMapping: the
// worker's evaluation and the action in a transaction that is always rolled back).
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Chip, SelectField } from '../components/ui.tsx';
import { graphql } from '../lib/api.ts';
import { formatExact } from '../lib/time.ts';
import { intlLocale } from '../lib/i18n.ts';
import { PREVIEW_MAPPING, TEST_DELIVERIES_QUERY, type MappingPreview, type TestDelivery } from '../lib/queries.ts';

export const SAMPLE_INPUT = 'sample';

export function useTestDeliveries(webhookId: string | undefined) {
  return useQuery({
    queryKey: ['test-deliveries', webhookId],
    queryFn: async () => (await graphql<{ inboundWebhookDeliveries: { nodes: TestDelivery[] } }>(TEST_DELIVERIES_QUERY, { id: webhookId })).inboundWebhookDeliveries.nodes,
    enabled: !!webhookId,
    staleTime: 5_000,
  });
}

/** The server's dry run of a draft handler on the sample (no deliveryId) or a delivery. */
export async function previewMapping(webhookId: string, handler: Record<string, unknown>, input: string): Promise<MappingPreview> {
  const data = await graphql<{ previewMapping: MappingPreview }>(PREVIEW_MAPPING, {
    input: { inboundWebhookId: webhookId, handler, ...(input !== SAMPLE_INPUT ? { deliveryId: input } : {}) },
  });
  return data.previewMapping;
}

export function TestInputPicker({ value, onChange, deliveries, hasSample }: { value: string; onChange: (v: string) => void; deliveries: TestDelivery[]; hasSample: boolean }) {
  const { t } = useTranslation();
  const locale = intlLocale();
  const choices = [
    ...(hasSample ? [{ id: SAMPLE_INPUT, label: t('dryRun.sample') }] : []),
    // raw: the label carries a time formatted by Intl (the browser's locale, not a string of ours)
    ...deliveries.map((d) => ({
      id: d.deliveryId,
      raw: true,
      label: t('dryRun.delivery', { status: t(`dispatch.${d.dispatchStatus}`, { defaultValue: d.dispatchStatus }), time: formatExact(d.receivedAt, locale), kind: d.isTest ? t('dryRun.test') : d.isReplay ? t('dryRun.replay') : '' }),
    })),
  ];
  return <SelectField id="dry-run-input" label={t('dryRun.input')} value={choices.some((c) => c.id === value) ? value : null} onChange={onChange} choices={choices} placeholder={t('dryRun.noInput')} description={t('dryRun.inputHint')} />;
}

export function DryRunResult({ result }: { result: MappingPreview }) {
  const { t } = useTranslation();
  const problems = result.fields.filter((f) => f.problem);
  return (
    <div className={`callout ${result.ok ? 'callout-ok' : 'callout-warn'}`} id="dry-run-result" role="status">
      <div className="dry-run-head">
        <Chip tone={result.ok ? 'ok' : 'bad'}>{result.ok ? t('dryRun.ok') : t('dryRun.fails')}</Chip>
        <strong translate="no">{result.summary}</strong>
      </div>
      <p className="muted small">{result.source === 'delivery' ? t('dryRun.onDelivery') : t('dryRun.onSample')}</p>
      {problems.length > 0 && (
        <ul className="dry-run-problems">
          {problems.map((f) => (
            <li key={f.name}>
              <code translate="no">{f.name}</code>: <span translate="no">{f.problem}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
