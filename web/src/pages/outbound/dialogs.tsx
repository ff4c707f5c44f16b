// The Outbound tab's small dialogs: the signing secret (shown once, after create and rotate), rotate
// with an overlap, send a test event, recover failed deliveries (count first, then progress), delete.
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Button, ProgressBar } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog, CopyableValue, ErrorState, Loading, ModalDialog, SelectField, errorText, notify } from '../../components/ui.tsx';
import { graphql } from '../../lib/api.ts';
import { intlLocale } from '../../lib/i18n.ts';
import { DEFAULT_OVERLAP, OVERLAP_CHOICES, RECOVER_WINDOWS, isCovered, recoverSince, type RecoverWindow } from '../../lib/outbound.ts';
import {
  DELETE_SUBSCRIPTION, RECOVERY_COUNT, RECOVERY_QUERY, ROTATE_SUBSCRIPTION_SECRET, SEND_TEST_EVENT, START_RECOVERY,
  type OutboundRecovery, type OutboundSubscription,
} from '../../lib/outboundQueries.ts';
import { formatExact } from '../../lib/time.ts';
import { useEventTypes, useRefreshOutbound } from './data.ts';

export interface ShownOutboundSecret {
  subscription: OutboundSubscription;
  secret: string;
  /** set after a rotation: when the previous secret(s) stop signing */
  previousSecretsExpireAt?: string;
}

const VERIFY_SNIPPET = `import { Webhook } from 'standardwebhooks';

const wh = new Webhook(process.env.INTAKE_WEBHOOK_SECRET); // whsec_…
// the raw body as received, and the request's headers
const event = wh.verify(rawBody, {
  'webhook-id': req.headers['webhook-id'],
  'webhook-timestamp': req.headers['webhook-timestamp'],
  'webhook-signature': req.headers['webhook-signature'],
}); // throws when the signature or timestamp is wrong`;

export function OutboundSecretDialog({ shown, onClose }: { shown: ShownOutboundSecret; onClose: () => void }) {
  const { t } = useTranslation();
  const rotated = shown.previousSecretsExpireAt !== undefined;
  const overlapEnded = rotated && new Date(shown.previousSecretsExpireAt!).getTime() <= Date.now() + 1_000;
  return (
    <ModalDialog id="outbound-secret-dialog" title={rotated ? t('outbound.secret.rotatedTitle') : t('outbound.secret.createdTitle')} isDismissable={false}>
          <div className="stack">
            <CopyableValue id="outbound-secret-url" label={t('outbound.secret.url')} value={shown.subscription.url} copyLabel={t('outbound.secret.copyUrl')} />
            <CopyableValue id="outbound-secret" label={t('outbound.secret.secret')} value={shown.secret} copyLabel={t('outbound.secret.copySecret')} />
            <p className="callout callout-warn" role="note">
              {t('outbound.secret.once')}
              {rotated && (
                <>
                  {' '}
                  {overlapEnded ? (
                    t('outbound.secret.overlapNone')
                  ) : (
                    <>
                      {t('outbound.secret.overlapUntil')}{' '}
                      <time translate="no" dateTime={shown.previousSecretsExpireAt}>
                        {formatExact(shown.previousSecretsExpireAt!, intlLocale())}
                      </time>
                    </>
                  )}
                </>
              )}
            </p>
            <div className="callout callout-info" id="outbound-verify-hint">
              <strong>{t('outbound.secret.verifyTitle')}</strong>
              <p>{t('outbound.secret.verifyBody')}</p>
              <pre className="code" translate="no" id="outbound-verify-snippet">
                {VERIFY_SNIPPET}
              </pre>
            </div>
          </div>
          <div className="dialog-actions">
            <Button id="outbound-secret-done" className="btn btn-primary" slot="close" onPress={onClose}>
              {t('outbound.secret.done')}
            </Button>
          </div>
    </ModalDialog>
  );
}

function overlapLabel(t: (k: string, o?: Record<string, unknown>) => string, seconds: number): string {
  if (seconds === 0) return t('outbound.rotate.overlapNow');
  if (seconds <= 86_400) return seconds === DEFAULT_OVERLAP
    ? `${t('outbound.rotate.overlapHours', { count: 24 })} ${t('outbound.rotate.recommended')}`
    : t('outbound.rotate.overlapHours', { count: seconds / 3_600 });
  return t('outbound.rotate.overlapDays', { count: seconds / 86_400 });
}

export function RotateDialog({ subscription, onClose, onRotated }: { subscription: OutboundSubscription; onClose: () => void; onRotated: (shown: ShownOutboundSecret) => void }) {
  const { t } = useTranslation();
  const refresh = useRefreshOutbound();
  const [overlap, setOverlap] = useState<number>(DEFAULT_OVERLAP);
  const rotate = useMutation({
    mutationFn: async () =>
      (await graphql<{ rotateOutboundSubscriptionSecret: { secret: string; previousSecretsExpireAt: string } }>(ROTATE_SUBSCRIPTION_SECRET, { id: subscription.subscriptionId, overlapSeconds: overlap }))
        .rotateOutboundSubscriptionSecret,
    onSuccess: (r) => {
      refresh();
      onRotated({ subscription, secret: r.secret, previousSecretsExpireAt: r.previousSecretsExpireAt });
    },
  });
  const rotating = subscription.secretExpiresAt && new Date(subscription.secretExpiresAt).getTime() > Date.now();
  return (
    <ModalDialog id="outbound-rotate-dialog" title={t('outbound.rotate.title')} size="small" onClose={onClose}>
          <div className="stack">
            <p>{t('outbound.rotate.body')}</p>
            <SelectField
              id="outbound-rotate-overlap"
              label={t('outbound.rotate.overlap')}
              value={String(overlap)}
              onChange={(v) => setOverlap(Number(v))}
              choices={OVERLAP_CHOICES.map((s) => ({ id: String(s), label: overlapLabel(t, s) }))}
              description={t('outbound.rotate.overlapHint')}
            />
            {rotating && (
              <p className="callout callout-warn small">
                {t('outbound.rotate.alreadyRotating')}{' '}
                <time translate="no" dateTime={subscription.secretExpiresAt!}>
                  {formatExact(subscription.secretExpiresAt!, intlLocale())}
                </time>
              </p>
            )}
            {rotate.isError && <p className="error-text">{errorText(t, rotate.error)}</p>}
          </div>
          <div className="dialog-actions">
            <Button id="outbound-rotate-cancel" className="btn" onPress={onClose}>
              {t('common.cancel')}
            </Button>
            <Button id="outbound-rotate-confirm" className="btn btn-primary" isDisabled={rotate.isPending} onPress={() => rotate.mutate()}>
              {t('outbound.rotate.confirm')}
            </Button>
          </div>
    </ModalDialog>
  );
}

export function TestEventDialog({ subscription, onClose, onSent }: { subscription: OutboundSubscription; onClose: () => void; onSent: (deliveryId: string) => void }) {
  const { t } = useTranslation();
  const refresh = useRefreshOutbound();
  const eventTypes = useEventTypes();
  const covered = (eventTypes.data ?? []).filter((type) => isCovered(subscription.eventTypes, type.name));
  const [chosen, setChosen] = useState<string | null>(null);
  const eventType = chosen ?? covered[0]?.name ?? 'ticket.created';
  const send = useMutation({
    mutationFn: async () =>
      (await graphql<{ sendOutboundTestEvent: { outboundDelivery: { deliveryId: string } } }>(SEND_TEST_EVENT, { id: subscription.subscriptionId, eventType }))
        .sendOutboundTestEvent.outboundDelivery.deliveryId,
    onSuccess: (deliveryId) => {
      refresh();
      notify(t('outbound.test.sent'));
      onSent(deliveryId);
    },
  });
  return (
    <ModalDialog id="outbound-test-dialog" title={t('outbound.test.title')} size="small" onClose={onClose}>
          {eventTypes.isPending ? (
            <Loading label={t('common.loading')} />
          ) : eventTypes.isError ? (
            <ErrorState error={eventTypes.error} onRetry={() => void eventTypes.refetch()} />
          ) : (
            <div className="stack">
              <p>{t('outbound.test.body')}</p>
              <SelectField
                id="outbound-test-type"
                label={t('outbound.test.eventType')}
                value={eventType}
                onChange={setChosen}
                choices={(covered.length ? covered : eventTypes.data).map((type) => ({
                  id: type.name,
                  label: type.name,
                  raw: true,
                  section: t(`outbound.entity.${type.entity}`, { defaultValue: type.entity }),
                }))}
              />
              {!subscription.isActive && <p className="callout callout-warn small">{t('outbound.test.inactive')}</p>}
              {send.isError && <p className="error-text">{errorText(t, send.error)}</p>}
            </div>
          )}
          <div className="dialog-actions">
            <Button id="outbound-test-cancel" className="btn" onPress={onClose}>
              {t('common.cancel')}
            </Button>
            <Button id="outbound-test-send" className="btn btn-primary" isDisabled={send.isPending || !eventTypes.data} onPress={() => send.mutate()}>
              {t('outbound.test.send')}
            </Button>
          </div>
    </ModalDialog>
  );
}

export function RecoverDialog({ subscription, onClose }: { subscription: OutboundSubscription; onClose: () => void }) {
  const { t } = useTranslation();
  const refresh = useRefreshOutbound();
  const [range, setRange] = useState<RecoverWindow>('day');
  // the start of the window is fixed when it is chosen, so the count and the run agree
  const [since, setSince] = useState(() => recoverSince('day', new Date()));
  const [started, setStarted] = useState<OutboundRecovery | null>(null);
  const count = useQuery({
    queryKey: ['outbound', 'recovery-count', subscription.subscriptionId, since],
    queryFn: async () => (await graphql<{ outboundRecoveryCount: number | null }>(RECOVERY_COUNT, { id: subscription.subscriptionId, since })).outboundRecoveryCount ?? 0,
  });
  const start = useMutation({
    mutationFn: async () =>
      (await graphql<{ startOutboundRecovery: { outboundRecovery: OutboundRecovery } }>(START_RECOVERY, { id: subscription.subscriptionId, since })).startOutboundRecovery.outboundRecovery,
    onSuccess: (run) => {
      setStarted(run);
      refresh();
    },
  });
  const progress = useQuery({
    queryKey: ['outbound', 'recovery', started?.recoveryId],
    queryFn: async () => (await graphql<{ outboundRecovery: OutboundRecovery }>(RECOVERY_QUERY, { id: started!.recoveryId })).outboundRecovery,
    enabled: !!started && started.status === 'running',
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'running' ? false : 1_000),
  });
  const state = progress.data ?? started;
  const done = !!state && state.status !== 'running';
  // the log and the page's "recovering" notice show the re-sent deliveries once the run ends
  useEffect(() => {
    if (done) refresh();
  }, [done]);
  const inactive = !subscription.isActive;
  return (
    <ModalDialog id="outbound-recover-dialog" title={t('outbound.recover.title')} size="small" onClose={onClose}>
          {!state ? (
            <div className="stack">
              <p>{t('outbound.recover.body')}</p>
              <SelectField
                id="outbound-recover-since"
                label={t('outbound.recover.since')}
                value={range}
                onChange={(v) => {
                  setRange(v as RecoverWindow);
                  setSince(recoverSince(v as RecoverWindow, new Date()));
                }}
                choices={(Object.keys(RECOVER_WINDOWS) as RecoverWindow[]).map((w) => ({ id: w, label: t(`outbound.recover.window.${w}`) }))}
              />
              {count.isPending ? (
                <Loading label={t('outbound.recover.counting')} />
              ) : count.isError ? (
                <ErrorState error={count.error} onRetry={() => void count.refetch()} />
              ) : (
                <p id="outbound-recover-count">{t('outbound.recover.count', { count: count.data })}</p>
              )}
              {inactive && <p className="callout callout-warn small">{t('outbound.recover.inactive')}</p>}
              {start.isError && <p className="error-text">{errorText(t, start.error)}</p>}
            </div>
          ) : (
            <div className="stack">
              <ProgressBar className="progress" value={state.processed} maxValue={Math.max(1, state.total)} aria-label={t('outbound.recover.progressLabel')}>
                <div className="progress-track">
                  <div className="progress-fill" style={{ width: `${(100 * state.processed) / Math.max(1, state.total)}%` }} />
                </div>
              </ProgressBar>
              <p id="outbound-recover-progress">{t('outbound.recover.progress', { processed: state.processed, total: state.total })}</p>
              {state.status === 'finished' && <p className="callout callout-ok">{t('outbound.recover.finished')}</p>}
              {state.status === 'failed' && (
                <p className="callout callout-error">
                  {t('outbound.recover.failed')} {state.errorMessage && <span translate="no">{state.errorMessage}</span>}
                </p>
              )}
            </div>
          )}
          <div className="dialog-actions">
            <Button id="outbound-recover-close" className="btn" onPress={onClose}>
              {done || !state ? t('common.close') : t('outbound.recover.hide')}
            </Button>
            {!state && (
              <Button id="outbound-recover-start" className="btn btn-primary" isDisabled={inactive || !count.data || start.isPending} onPress={() => start.mutate()}>
                {t('outbound.recover.start', { count: count.data ?? 0 })}
              </Button>
            )}
          </div>
    </ModalDialog>
  );
}

export function DeleteSubscriptionDialog({ subscription, onClose, onDeleted }: { subscription: OutboundSubscription; onClose: () => void; onDeleted?: () => void }) {
  const { t } = useTranslation();
  const refresh = useRefreshOutbound();
  const remove = useMutation({
    mutationFn: () => graphql(DELETE_SUBSCRIPTION, { id: subscription.subscriptionId }),
    onSuccess: () => {
      refresh();
      notify(t('outbound.delete.deleted'));
      onClose();
      onDeleted?.();
    },
  });
  return (
    <ConfirmDialog
      id="outbound-delete-dialog"
      title={t('outbound.delete.title')}
      body={t('outbound.delete.body')}
      confirmLabel={t('outbound.delete.confirm')}
      confirmId="outbound-delete-confirm"
      cancelId="outbound-delete-cancel"
      onConfirm={() => remove.mutate()}
      onCancel={onClose}
      isPending={remove.isPending}
      error={remove.isError ? remove.error : null}
      danger
    >
      <p>
        <code translate="no" className="break">
          {subscription.url}
        </code>
      </p>
    </ConfirmDialog>
  );
}
