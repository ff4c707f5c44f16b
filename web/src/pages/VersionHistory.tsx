// Every saved configuration of a webhook (who, when, what changed), a diff between any two
// (@codemirror/merge, loaded when first compared), and "restore this version".
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Button, Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ErrorState, Loading, RelTime, SelectField, errorText, notify } from '../components/ui.tsx';
import { graphql } from '../lib/api.ts';
import { RESTORE_VERSION, VERSIONS_QUERY, type WebhookVersion } from '../lib/queries.ts';

function configText(v: WebhookVersion | undefined): string {
  return v ? `${JSON.stringify(v.config, null, 2)}\n` : '';
}

function Diff({ a, b, label }: { a: string; b: string; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let destroyed = false;
    let destroy = () => {};
    void (async () => {
      const [{ MergeView }, { EditorState }, { EditorView }] = await Promise.all([import('@codemirror/merge'), import('@codemirror/state'), import('@codemirror/view')]);
      if (destroyed || !host.current) return;
      const readOnly = [EditorState.readOnly.of(true), EditorView.editable.of(false), EditorView.lineWrapping];
      const view = new MergeView({ a: { doc: a, extensions: readOnly }, b: { doc: b, extensions: readOnly }, parent: host.current, collapseUnchanged: { margin: 2, minSize: 4 }, gutter: true });
      destroy = () => view.destroy();
    })();
    return () => {
      destroyed = true;
      destroy();
    };
  }, [a, b]);
  return <div ref={host} className="version-diff" id="version-diff" aria-label={label} translate="no" />;
}

export function VersionHistory({ webhookId, onRestored }: { webhookId: string; onRestored: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const versions = useQuery({
    queryKey: ['versions', webhookId],
    queryFn: async () => (await graphql<{ inboundWebhook: { currentVersion: number; versions: WebhookVersion[] } | null }>(VERSIONS_QUERY, { id: webhookId })).inboundWebhook,
  });
  const list = versions.data?.versions ?? [];
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);
  const restore = useMutation({
    mutationFn: (version: number) => graphql(RESTORE_VERSION, { id: webhookId, version }),
    onSuccess: (_data, version) => {
      notify(t('versions.restored', { version }));
      setRestoring(null);
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      void queryClient.invalidateQueries({ queryKey: ['versions', webhookId] });
      onRestored();
    },
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  if (versions.isPending) return <Loading label={t('common.loading')} />;
  if (versions.isError) return <ErrorState error={versions.error} onRetry={() => void versions.refetch()} id="versions-retry" />;
  if (list.length === 0) return <p className="muted small">{t('versions.none')}</p>;
  const older = a ?? list[1]?.version ?? list[0]!.version;
  const newer = b ?? list[0]!.version;
  const choices = list.map((v) => ({ id: String(v.version), label: t('versions.version', { version: v.version }) }));
  return (
    <div className="versions">
      <ol className="version-list" id="version-list">
        {list.map((v) => (
          <li key={v.version} id={`version-${v.version}`}>
            <div className="version-head">
              <strong>{t('versions.version', { version: v.version })}</strong>
              {v.version === versions.data?.currentVersion && <Chip tone="info">{t('versions.current')}</Chip>}
              <RelTime value={v.createdAt} />
              <span className="muted small">{v.createdBy ? <span translate="no">{t('versions.by', { who: v.createdBy })}</span> : t('versions.unknownActor')}</span>
              {v.version !== versions.data?.currentVersion && (
                <Button id={`version-restore-${v.version}`} className="btn btn-small" onPress={() => setRestoring(v.version)}>
                  {t('versions.restore')}
                </Button>
              )}
            </div>
            <p className="muted small">
              {v.changes.length ? (
                <>
                  {t('versions.changes', { changes: '' })}
                  <code translate="no">{v.changes.join(', ')}</code>
                </>
              ) : (
                t('versions.firstVersion')
              )}
            </p>
          </li>
        ))}
      </ol>
      {list.length > 1 && (
        <>
          <div className="grid-2 version-compare">
            <SelectField id="version-compare-a" label={t('versions.compare')} value={String(older)} onChange={(v) => setA(Number(v))} choices={choices} />
            <SelectField id="version-compare-b" label={t('versions.with')} value={String(newer)} onChange={(v) => setB(Number(v))} choices={choices} />
          </div>
          <Diff a={configText(list.find((v) => v.version === older))} b={configText(list.find((v) => v.version === newer))} label={t('versions.diffLabel', { a: older, b: newer })} />
        </>
      )}
      {restoring !== null && (
        <ModalOverlay isOpen isDismissable onOpenChange={(o) => !o && setRestoring(null)} className="overlay">
          <Modal className="modal">
            <Dialog className="dialog" id="version-restore-dialog" aria-labelledby="version-restore-title">
              <Heading slot="title" id="version-restore-title">
                {t('versions.restoreTitle', { version: restoring })}
              </Heading>
              <p>{t('versions.restoreBody', { version: restoring })}</p>
              <div className="dialog-actions">
                <Button id="version-restore-cancel" className="btn" onPress={() => setRestoring(null)}>
                  {t('common.cancel')}
                </Button>
                <Button id="version-restore-confirm" className="btn btn-primary" onPress={() => restore.mutate(restoring)} isDisabled={restore.isPending}>
                  {t('versions.restore')}
                </Button>
              </div>
            </Dialog>
          </Modal>
        </ModalOverlay>
      )}
    </div>
  );
}
