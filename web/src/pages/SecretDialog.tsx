// After create and rotate: the secret, shown this once, with copy, where it goes for the chosen
// sender format, and a ready `curl` signed in the browser (lib/curl.ts) for that secret.
import { useEffect, useMemo, useState } from 'react';
import { Button, Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { CopyButton, CopyableValue } from '../components/ui.tsx';
import { DEFAULT_SIGNATURE_HEADER, EXAMPLE_BODY, curlCommand, signRequest, type AuthSettings } from '../lib/curl.ts';
import { intlLocale } from '../lib/i18n.ts';
import { formatExact } from '../lib/time.ts';
import type { Webhook } from '../lib/queries.ts';

export interface ShownSecret {
  webhook: Webhook;
  secret: string | null;
  url: string;
  rotated: boolean;
  previousSecretsExpireAt?: string;
}

export function senderHintKey(auth: AuthSettings): string {
  if (auth.auth_type === 'hmac_sha256') return `secret.hint.${auth.signature_format ?? 'hex'}`;
  return `secret.hint.${auth.auth_type}`;
}

export function SecretDialog({ shown, onClose }: { shown: ShownSecret; onClose: () => void }) {
  const { t } = useTranslation();
  const auth = useMemo<AuthSettings>(() => ({ ...(shown.webhook.authConfig as AuthSettings), auth_type: shown.webhook.authType }), [shown.webhook]);
  const [curl, setCurl] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    void signRequest(shown.url, shown.secret, auth, EXAMPLE_BODY, Math.floor(Date.now() / 1000)).then((request) => {
      if (!cancelled) setCurl(curlCommand(request, EXAMPLE_BODY));
    });
    return () => {
      cancelled = true;
    };
  }, [shown.url, shown.secret, auth]);
  const timestamped = auth.auth_type === 'hmac_sha256' && (['stripe', 'slack', 'standard-webhooks'].includes(auth.signature_format ?? '') || !!auth.timestamp_header);
  const header = auth.signature_header ?? DEFAULT_SIGNATURE_HEADER[auth.signature_format ?? 'hex'];
  return (
    <ModalOverlay isOpen className="overlay">
      <Modal className="modal">
        <Dialog className="dialog" id="secret-dialog" aria-labelledby="secret-title">
          <Heading slot="title" id="secret-title">
            {shown.rotated ? t('secret.rotatedTitle') : t('secret.createdTitle')}
          </Heading>
          <div className="stack">
            <CopyableValue id="webhook-url" label={t('secret.url')} value={shown.url} copyLabel={t('secret.copyUrl')} />
            {shown.secret !== null ? (
              <>
                <CopyableValue id="webhook-secret" label={t('secret.secret')} value={shown.secret} copyLabel={t('secret.copySecret')} />
                <p className="callout callout-warn" role="note">
                  {t('secret.once')}
                  {shown.rotated && shown.previousSecretsExpireAt && (
                    <>
                      {' '}
                      {t('secret.grace')}{' '}
                      <time translate="no" dateTime={shown.previousSecretsExpireAt}>
                        {formatExact(shown.previousSecretsExpireAt, intlLocale())}
                      </time>
                    </>
                  )}
                </p>
              </>
            ) : (
              <p className="callout">{t('secret.none')}</p>
            )}
            <div className="callout callout-info" id="sender-hint">
              <strong>{t('secret.whereTitle')}</strong>
              <p>{t(senderHintKey(auth))}</p>
              {auth.auth_type === 'hmac_sha256' && (
                <p>
                  {t('secret.signatureHeader')} <code translate="no">{header}</code>
                </p>
              )}
            </div>
            <div>
              <div className="label">{t('secret.curlTitle')}</div>
              <p className="muted small">{timestamped ? t('secret.curlTimestamped') : t('secret.curlHint')}</p>
              <div className="copy-row copy-row-top">
                <pre id="webhook-curl" className="code" translate="no">
                  {curl ?? '…'}
                </pre>
                {curl && <CopyButton id="webhook-curl-copy" text={curl} label={t('secret.copyCurl')} />}
              </div>
            </div>
          </div>
          <div className="dialog-actions">
            <Button id="secret-done" className="btn btn-primary" slot="close" onPress={onClose}>
              {t('secret.done')}
            </Button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}
