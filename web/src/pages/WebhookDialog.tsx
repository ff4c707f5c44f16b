// Create / edit a webhook, in the PRD's sections: Identity, Auth, Idempotency, Handler, Limits,
// History. Each mapping is a JSONata editor (`mapping-<field>`, CodeMirror, loaded with the
// dialog's first editor) with its live preview, beside the sample tree; the test input picker
// and the server's dry run sit above the fields, and saving a draft that fails its dry run asks first.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Button, Dialog, Form, Heading, Modal, ModalOverlay, Switch } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ErrorState, Field, Loading, SelectField, notify } from '../components/ui.tsx';
import type { EditorHandle } from '../editor/ExpressionEditor.tsx';
import type { FieldInfo } from '../editor/fieldCheck.ts';
import { SampleTree } from '../editor/SampleTree.tsx';
import { exampleOf } from '../editor/values.ts';
import { ApiError, graphql } from '../lib/api.ts';
import { DEFAULT_SIGNATURE_HEADER, type SignatureFormat } from '../lib/curl.ts';
import { formFieldOf, messageWithoutPath } from '../lib/errorField.ts';
import { CREATE_WEBHOOK, SLUG_TAKEN_QUERY, UPDATE_WEBHOOK, type InboundAction, type MappingPreview, type Webhook } from '../lib/queries.ts';
import { HEADER_PATTERN, badCidrLines, cidrList, slugFromName, slugProblem } from '../lib/validate.ts';
import { useRegistry } from './InboundList.tsx';
import { DryRunResult, previewMapping, SAMPLE_INPUT, TestInputPicker, useTestDeliveries } from './DryRun.tsx';
import { SamplePanel, useWebhookSample } from './SamplePanel.tsx';
import type { ShownSecret } from './SecretDialog.tsx';
import { usePermissions } from './Shell.tsx';
import { VersionHistory } from './VersionHistory.tsx';
import { WorkflowSteps } from './WorkflowSteps.tsx';

const ExpressionEditor = lazy(() => import('../editor/ExpressionEditor.tsx').then((m) => ({ default: m.ExpressionEditor })));
const IDEMPOTENCY_FIELD: FieldInfo = { name: 'idempotency', type: 'string', required: true };

const SIGNATURE_FORMATS: SignatureFormat[] = ['hex', 'base64', 'github', 'stripe', 'slack', 'standard-webhooks'];
const AUTH_TYPES = ['hmac_sha256', 'bearer', 'ip_allowlist', 'path_token'];

interface FormState {
  name: string;
  slug: string;
  description: string;
  authType: string;
  signatureFormat: SignatureFormat;
  signatureHeader: string;
  timestampHeader: string;
  tolerance: string;
  tokenHeader: string;
  cidrs: string;
  queryParam: string;
  ownSecret: string;
  idempotencyType: 'none' | 'header' | 'jsonata';
  idempotencyValue: string;
  idempotencyWindow: string;
  handlerType: 'direct_action' | 'workflow';
  action: string;
  mappings: Record<string, string>;
  workflowId: string;
  rateLimit: string;
  isActive: boolean;
}

function initialState(w: Webhook | null): FormState {
  const a = w?.authConfig ?? {};
  const h = w?.handlerConfig ?? {};
  return {
    name: w?.name ?? '',
    slug: w?.slug ?? '',
    description: w?.description ?? '',
    authType: w?.authType ?? 'hmac_sha256',
    signatureFormat: (a.signature_format as SignatureFormat) ?? 'hex',
    signatureHeader: a.signature_header ?? '',
    timestampHeader: a.timestamp_header ?? '',
    tolerance: String(a.tolerance_seconds ?? 300),
    tokenHeader: a.header ?? 'authorization',
    cidrs: Array.isArray(a.cidrs) ? a.cidrs.join('\n') : '',
    queryParam: a.query_param ?? 'token',
    ownSecret: '',
    idempotencyType: w?.idempotencySource?.type ?? 'none',
    idempotencyValue: w?.idempotencySource?.value ?? '',
    idempotencyWindow: String(w?.idempotencyWindowSeconds ?? 86_400),
    handlerType: w?.handlerType ?? 'direct_action',
    action: h.action ?? '',
    mappings: { ...(h.field_mapping ?? {}) },
    workflowId: h.workflow_id ?? '',
    rateLimit: String(w?.rateLimitPerMinute ?? 600),
    isActive: w?.isActive ?? true,
  };
}

function authInput(f: FormState, creating: boolean): Record<string, unknown> {
  const type = creating ? { auth_type: f.authType } : {};
  switch (f.authType) {
    case 'hmac_sha256':
      return {
        ...type,
        signature_format: f.signatureFormat,
        ...(f.signatureHeader.trim() ? { signature_header: f.signatureHeader.trim() } : {}),
        ...(f.timestampHeader.trim() && f.signatureFormat === 'hex' ? { timestamp_header: f.timestampHeader.trim() } : {}),
        tolerance_seconds: Number(f.tolerance),
      };
    case 'bearer':
      return { ...type, header: f.tokenHeader.trim() || 'authorization' };
    case 'ip_allowlist':
      return { ...type, cidrs: cidrList(f.cidrs) };
    default:
      return { ...type, query_param: f.queryParam.trim() || 'token' };
  }
}

function handlerInput(f: FormState, action: InboundAction | undefined): Record<string, unknown> {
  if (f.handlerType === 'workflow') return { handler_type: 'workflow', workflow_id: f.workflowId };
  const known = new Set(action?.targetFields.map((x) => x.name) ?? []);
  const mapping: Record<string, string> = {};
  for (const [field, expr] of Object.entries(f.mappings)) if (known.has(field) && expr.trim()) mapping[field] = expr.trim();
  return { handler_type: 'direct_action', action: f.action, field_mapping: mapping };
}

/** The DOM id of each field key (lib/errorField.ts), to move focus to the first problem. */
const FIELD_IDS: Record<string, string> = {
  name: 'webhook-name', slug: 'webhook-slug', description: 'webhook-description', secret: 'webhook-own-secret',
  authType: 'webhook-auth-type', signatureFormat: 'webhook-signature-format', signatureHeader: 'webhook-signature-header',
  timestampHeader: 'webhook-timestamp-header', tolerance: 'webhook-tolerance', tokenHeader: 'webhook-token-header',
  cidrs: 'webhook-cidrs', queryParam: 'webhook-query-param', idempotencyValue: 'webhook-idempotency-value',
  idempotencyWindow: 'webhook-idempotency-window', action: 'webhook-action', workflow: 'webhook-workflow', rateLimit: 'webhook-rate-limit',
};

function focusField(key: string | null | undefined): void {
  if (!key) return;
  const id = key.startsWith('mapping-') ? key : FIELD_IDS[key];
  requestAnimationFrame(() => {
    const el = id ? document.getElementById(id) : null;
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  });
}

/** The workflow envelope (PRD "Workflow Handler") around a body: what a run gets as `input`. */
function envelopeFor(slug: string, body: unknown): Record<string, unknown> {
  return {
    source: slug || 'slug',
    body,
    headers: { 'content-type': 'application/json' },
    verified: true,
    is_test: false,
    is_replay: false,
    delivery_id: '…',
    idempotency_key: '…',
    received_at: '2026-05-11T14:02:14.123456Z',
  };
}

/** The first leaf path of a body, for the envelope card's example (input.body.<this>). */
function firstLeaf(value: unknown, path = ''): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return path;
  const [key, child] = Object.entries(value)[0] ?? [];
  return key === undefined ? path : firstLeaf(child, path ? `${path}.${key}` : key);
}

export function WebhookDialog({ webhook, onClose, onCreated }: { webhook: Webhook | null; onClose: () => void; onCreated: (s: ShownSecret) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const registry = useRegistry();
  const creating = webhook === null;
  const { can } = usePermissions();
  const [f, setF] = useState<FormState>(() => initialState(webhook));
  const sample = useWebhookSample(webhook);
  const samplePayload = sample.data?.samplePayload ?? null;
  const hasSample = samplePayload !== null && samplePayload !== undefined;
  const deliveries = useTestDeliveries(webhook?.inboundWebhookId);
  const [testInput, setTestInput] = useState<string>('');
  // the sample when there is one, else the newest delivery; a capture that lands switches to it
  const chosenInput = testInput || (hasSample ? SAMPLE_INPUT : (deliveries.data?.[0]?.deliveryId ?? ''));
  const testBody = chosenInput === SAMPLE_INPUT ? samplePayload : deliveries.data?.find((d) => d.deliveryId === chosenInput)?.requestBody;
  const hasTestBody = testBody !== null && testBody !== undefined;
  const focused = useRef<EditorHandle | null>(null);
  const [dryRun, setDryRun] = useState<{ key: string; result: MappingPreview } | null>(null);
  const [confirmSave, setConfirmSave] = useState<MappingPreview | null>(null);
  // a sample that lands is also a new delivery: both the input and the picker's list follow it
  useEffect(() => {
    if (sample.data?.sampleCapturedAt && hasSample) setTestInput((v) => (v && v !== SAMPLE_INPUT ? v : SAMPLE_INPUT));
    void queryClient.invalidateQueries({ queryKey: ['test-deliveries'] });
  }, [sample.data?.sampleCapturedAt, hasSample, queryClient]);
  const [slugTouched, setSlugTouched] = useState(!creating);
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<ApiError | Error | null>(null);
  // the syntax error each expression editor found lately (by field key, with the source it was
  // found in: a newer source is not held to it): a draft with one is not sent
  const [syntax, setSyntax] = useState<Record<string, { source: string; message: string | null }>>({});
  const syntaxOf = (key: string) => (source: string, message: string | null) =>
    setSyntax((s) => (s[key]?.source === source && s[key]?.message === message ? s : { ...s, [key]: { source, message } }));
  const syntaxError = (key: string, source: string): string | null => (syntax[key]?.source === source ? (syntax[key]?.message ?? null) : null);
  const set = <K extends keyof FormState>(key: K) => (value: FormState[K]) => {
    setF((s) => ({ ...s, [key]: value }));
    setServerError(null);
  };

  // live slug uniqueness, a moment after typing stops
  const [debouncedSlug, setDebouncedSlug] = useState(f.slug);
  useEffect(() => {
    const timer = setTimeout(() => setDebouncedSlug(f.slug), 300);
    return () => clearTimeout(timer);
  }, [f.slug]);
  const slugIssue = slugProblem(f.slug);
  const checkSlug = !slugIssue && debouncedSlug === f.slug && (creating || f.slug !== webhook?.slug);
  const slugTaken = useQuery({
    queryKey: ['slug-taken', debouncedSlug],
    queryFn: async () => (await graphql<{ inboundWebhookBySlug: { inboundWebhookId: string } | null }>(SLUG_TAKEN_QUERY, { slug: debouncedSlug })).inboundWebhookBySlug !== null,
    enabled: checkSlug,
    staleTime: 2_000,
  });

  const actions = registry.data?.actions ?? [];
  const action = actions.find((a) => a.name === f.action);
  const workflows = registry.data?.workflows ?? [];

  // client-side problems, by field key
  const problems = useMemo(() => {
    const p: Record<string, string> = {};
    if (!f.name.trim()) p.name = t('form.errors.required');
    if (slugIssue && (slugIssue !== 'empty' || submitted)) p.slug = t(`form.errors.slug.${slugIssue}`);
    else if (checkSlug && slugTaken.data === true) p.slug = t('form.errors.slug.taken');
    if (f.authType === 'ip_allowlist') {
      const bad = badCidrLines(f.cidrs);
      if (bad.length) p.cidrs = t('form.errors.cidrLines', { lines: bad.join(', ') });
      else if (cidrList(f.cidrs).length === 0) p.cidrs = t('form.errors.cidrNone');
    }
    for (const [key, value] of [['signatureHeader', f.signatureHeader], ['timestampHeader', f.timestampHeader], ['tokenHeader', f.tokenHeader]] as const) {
      if (value.trim() && !HEADER_PATTERN.test(value.trim())) p[key] = t('form.errors.header');
    }
    if (f.idempotencyType === 'header' && !HEADER_PATTERN.test(f.idempotencyValue.trim())) p.idempotencyValue = t('form.errors.header');
    if (f.idempotencyType === 'jsonata' && !f.idempotencyValue.trim()) p.idempotencyValue = t('form.errors.required');
    else if (f.idempotencyType === 'jsonata' && syntaxError('idempotencyValue', f.idempotencyValue)) p.idempotencyValue = t('form.errors.syntax', { message: syntaxError('idempotencyValue', f.idempotencyValue) });
    const intIn = (key: string, value: string, min: number, max: number) => {
      if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) p[key] = t('form.errors.range', { min, max });
    };
    if (f.authType === 'hmac_sha256') intIn('tolerance', f.tolerance, 1, 86_400);
    if (f.idempotencyType !== 'none') intIn('idempotencyWindow', f.idempotencyWindow, 1, 90 * 86_400);
    intIn('rateLimit', f.rateLimit, 0, 1_000_000);
    if (f.handlerType === 'direct_action') {
      if (!f.action) p.action = t('form.errors.chooseAction');
      for (const field of action?.targetFields ?? []) {
        const key = `mapping-${field.name}`;
        if (field.required && !(f.mappings[field.name] ?? '').trim()) p[key] = t('form.errors.required');
        else if (syntaxError(key, f.mappings[field.name] ?? '')) p[key] = t('form.errors.syntax', { message: syntaxError(key, f.mappings[field.name] ?? '') });
      }
    } else if (!f.workflowId) p.workflow = t('form.errors.chooseWorkflow');
    if (creating && f.ownSecret && f.ownSecret.length < 16) p.secret = t('form.errors.secretShort');
    return p;
  }, [f, slugIssue, submitted, checkSlug, slugTaken.data, action, creating, syntax, t]);

  const serverField = serverError instanceof ApiError ? formFieldOf(serverError) : null;
  const errorOf = (key: string): string | null => {
    if (serverField === key && serverError) return messageWithoutPath(serverError.message);
    if (key === 'slug' && problems.slug) return problems.slug; // live, before Save
    return submitted ? (problems[key] ?? null) : null;
  };

  const draftKey = JSON.stringify(handlerInput(f, action));
  const runDryRun = useMutation({
    mutationFn: () => previewMapping(webhook!.inboundWebhookId, handlerInput(f, action), chosenInput),
    onSuccess: (result) => setDryRun({ key: draftKey, result }),
    onError: (error) => setServerError(error),
  });
  const dryRunNow = dryRun && dryRun.key === draftKey ? dryRun.result : null;

  const save = useMutation({
    mutationFn: async () => {
      const common = {
        name: f.name.trim(),
        slug: f.slug.trim(),
        description: f.description.trim() || null,
        idempotency: f.idempotencyType === 'none' ? null : { type: f.idempotencyType, value: f.idempotencyValue.trim() },
        idempotencyWindowSeconds: Number(f.idempotencyWindow),
        handler: handlerInput(f, action),
        rateLimitPerMinute: Number(f.rateLimit),
        isActive: f.isActive,
      };
      if (creating) {
        const input = { ...common, auth: authInput(f, true), ...(f.ownSecret ? { secret: f.ownSecret } : {}) };
        const data = await graphql<{ createInboundWebhook: { url: string; secret: string | null; inboundWebhook: Webhook } }>(CREATE_WEBHOOK, { input });
        return data.createInboundWebhook;
      }
      await graphql(UPDATE_WEBHOOK, { input: { inboundWebhookId: webhook.inboundWebhookId, patch: { ...common, auth: authInput(f, false) } } });
      return null;
    },
    onSuccess: (created) => {
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      if (created) onCreated({ webhook: created.inboundWebhook, secret: created.secret, url: created.url, rotated: false });
      else onClose();
    },
    onError: (error) => {
      setServerError(error);
      focusField(error instanceof ApiError ? formFieldOf(error) : null);
    },
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    const first = Object.keys(problems)[0];
    if (first) {
      focusField(first);
      return;
    }
    void saveAfterDryRun();
  };

  /** Saves, unless the draft fails its dry run on the chosen input: then asks first. */
  const saveAfterDryRun = async () => {
    if (!creating && f.handlerType === 'direct_action' && chosenInput && hasTestBody) {
      try {
        const result = await previewMapping(webhook.inboundWebhookId, handlerInput(f, action), chosenInput);
        setDryRun({ key: draftKey, result });
        if (!result.ok) {
          setConfirmSave(result);
          return;
        }
      } catch {
        // no verdict (the dry run itself failed): the server still validates the save
      }
    }
    save.mutate();
  };
  const insertPath = (path: string) => {
    if (focused.current) focused.current.insert(path);
    else notify(t('sample.pickHint'));
  };
  const sampleField = (field: InboundAction['targetFields'][number]): FieldInfo => ({ name: field.name, type: field.type, required: field.required, enumValues: field.enumValues });
  const editorFallback = <div className="expr-loading" aria-hidden="true" />;

  const actionChoices = actions.map((a) => ({ id: a.name, label: a.displayName, raw: true, section: t(`entity.${a.entityType}`, { defaultValue: a.entityType }) }));
  const generalError = serverError && !serverField ? serverError : null;
  const problemCount = submitted ? Object.keys(problems).length : 0;

  return (
    <ModalOverlay isOpen isDismissable={false} className="overlay">
      <Modal className="modal modal-wide">
        <Dialog className="dialog" id="webhook-dialog" aria-labelledby="webhook-dialog-title">
          <Heading slot="title" id="webhook-dialog-title">
            {creating ? t('form.createTitle') : t('form.editTitle')}
          </Heading>
          {registry.isPending ? (
            <Loading label={t('common.loading')} />
          ) : registry.isError ? (
            <ErrorState error={registry.error} onRetry={() => void registry.refetch()} />
          ) : (
            <Form className="form" onSubmit={onSubmit} validationBehavior="aria">
              <fieldset className="section">
                <legend>{t('form.identity')}</legend>
                <div className="grid-2">
                  <Field
                    id="webhook-name"
                    label={t('form.name')}
                    value={f.name}
                    isRequired
                    error={errorOf('name')}
                    onChange={(v) => {
                      setF((s) => ({ ...s, name: v, slug: slugTouched ? s.slug : slugFromName(v) }));
                      setServerError(null);
                    }}
                  />
                  <Field
                    id="webhook-slug"
                    label={t('form.slug')}
                    value={f.slug}
                    isRequired
                    mono
                    error={errorOf('slug')}
                    description={slugIssue === null && checkSlug && slugTaken.data === false ? t('form.slugFree') : t('form.slugHint')}
                    onChange={(v) => {
                      setSlugTouched(true);
                      set('slug')(v);
                    }}
                  />
                </div>
                <Field id="webhook-description" label={t('form.description')} value={f.description} onChange={set('description')} error={errorOf('description')} />
              </fieldset>

              <fieldset className="section">
                <legend>{t('form.auth')}</legend>
                <div className="grid-2">
                  <SelectField
                    id="webhook-auth-type"
                    label={t('form.authType')}
                    value={f.authType}
                    onChange={set('authType')}
                    isDisabled={!creating}
                    error={errorOf('authType')}
                    description={creating ? t(`form.authTypeHint.${f.authType}`) : t('form.authTypeFixed')}
                    choices={AUTH_TYPES.map((a) => ({ id: a, label: t(`authType.${a}`) }))}
                  />
                  {f.authType === 'hmac_sha256' && (
                    <SelectField
                      id="webhook-signature-format"
                      label={t('form.signatureFormat')}
                      value={f.signatureFormat}
                      onChange={(v) => set('signatureFormat')(v as SignatureFormat)}
                      error={errorOf('signatureFormat')}
                      choices={SIGNATURE_FORMATS.map((s) => ({ id: s, label: t(`signatureFormat.${s}`) }))}
                    />
                  )}
                </div>
                {f.authType === 'hmac_sha256' && (
                  <div className="grid-3">
                    <Field id="webhook-signature-header" label={t('form.signatureHeader')} value={f.signatureHeader} onChange={set('signatureHeader')} placeholder={DEFAULT_SIGNATURE_HEADER[f.signatureFormat]} description={t('form.signatureHeaderHint')} error={errorOf('signatureHeader')} mono />
                    {f.signatureFormat === 'hex' && (
                      <Field id="webhook-timestamp-header" label={t('form.timestampHeader')} value={f.timestampHeader} onChange={set('timestampHeader')} description={t('form.timestampHeaderHint')} error={errorOf('timestampHeader')} mono />
                    )}
                    <Field id="webhook-tolerance" label={t('form.tolerance')} value={f.tolerance} onChange={set('tolerance')} inputMode="numeric" description={t('form.toleranceHint')} error={errorOf('tolerance')} />
                  </div>
                )}
                {f.authType === 'bearer' && (
                  <Field id="webhook-token-header" label={t('form.tokenHeader')} value={f.tokenHeader} onChange={set('tokenHeader')} description={t('form.tokenHeaderHint')} error={errorOf('tokenHeader')} mono />
                )}
                {f.authType === 'ip_allowlist' && (
                  <Field id="webhook-cidrs" label={t('form.cidrs')} value={f.cidrs} onChange={set('cidrs')} multiline rows={4} placeholder={'203.0.113.0/24\n2001:db8::/32'} description={t('form.cidrsHint')} error={errorOf('cidrs') ?? (badCidrLines(f.cidrs).length ? problems.cidrs ?? null : null)} mono />
                )}
                {f.authType === 'path_token' && (
                  <Field id="webhook-query-param" label={t('form.queryParam')} value={f.queryParam} onChange={set('queryParam')} description={t('form.queryParamHint')} error={errorOf('queryParam')} mono />
                )}
                {creating && f.authType !== 'ip_allowlist' && (
                  <Field id="webhook-own-secret" label={t('form.ownSecret')} value={f.ownSecret} onChange={set('ownSecret')} type="password" description={t('form.ownSecretHint')} error={errorOf('secret')} autoComplete="off" />
                )}
              </fieldset>

              <fieldset className="section">
                <legend>{t('form.idempotency')}</legend>
                <p className="muted small">{t('form.idempotencyIntro')}</p>
                <div className="grid-3">
                  <SelectField
                    id="webhook-idempotency-type"
                    label={t('form.idempotencyType')}
                    value={f.idempotencyType}
                    onChange={(v) => set('idempotencyType')(v as FormState['idempotencyType'])}
                    choices={(['none', 'header', 'jsonata'] as const).map((k) => ({ id: k, label: t(`idempotency.${k}`) }))}
                  />
                  {f.idempotencyType === 'header' && (
                    <Field
                      id="webhook-idempotency-value"
                      label={t('form.idempotencyHeader')}
                      value={f.idempotencyValue}
                      onChange={set('idempotencyValue')}
                      placeholder="x-github-delivery"
                      error={errorOf('idempotencyValue')}
                      mono
                    />
                  )}
                  {f.idempotencyType === 'jsonata' && (
                    <div className="field field-expr">
                      <span className="field-label" id="webhook-idempotency-label">
                        {t('form.idempotencyExpression')}
                      </span>
                      <Suspense fallback={editorFallback}>
                        <ExpressionEditor
                          id="webhook-idempotency-value"
                          previewId="preview-idempotency"
                          label={t('form.idempotencyExpression')}
                          value={f.idempotencyValue}
                          onChange={set('idempotencyValue')}
                          input={testBody}
                          hasInput={hasTestBody}
                          field={IDEMPOTENCY_FIELD}
                          placeholder="groupKey & status"
                          invalid={!!errorOf('idempotencyValue')}
                          onSyntax={syntaxOf('idempotencyValue')}
                          describedBy={errorOf('idempotencyValue') ? 'webhook-idempotency-error' : undefined}
                          onFocus={(h) => (focused.current = h)}
                        />
                      </Suspense>
                      {errorOf('idempotencyValue') && (
                        <span className="field-error" id="webhook-idempotency-error">
                          {errorOf('idempotencyValue')}
                        </span>
                      )}
                    </div>
                  )}
                  {f.idempotencyType !== 'none' && (
                    <Field id="webhook-idempotency-window" label={t('form.idempotencyWindow')} value={f.idempotencyWindow} onChange={set('idempotencyWindow')} inputMode="numeric" description={t('form.idempotencyWindowHint')} error={errorOf('idempotencyWindow')} />
                  )}
                </div>
              </fieldset>

              <fieldset className="section">
                <legend>{t('form.handler')}</legend>
                <div className="grid-2">
                  <SelectField
                    id="webhook-handler-type"
                    label={t('form.handlerType')}
                    value={f.handlerType}
                    onChange={(v) => set('handlerType')(v as FormState['handlerType'])}
                    choices={[
                      { id: 'direct_action', label: t('handler.directAction') },
                      { id: 'workflow', label: t('handler.workflow') },
                    ]}
                  />
                  {f.handlerType === 'direct_action' ? (
                    <SelectField id="webhook-action" label={t('form.action')} value={f.action || null} onChange={set('action')} choices={actionChoices} placeholder={t('form.chooseAction')} error={errorOf('action')} />
                  ) : workflows.length === 0 ? (
                    <p className="callout">{t('form.noWorkflows')}</p>
                  ) : (
                    <SelectField id="webhook-workflow" label={t('form.workflow')} value={f.workflowId || null} onChange={set('workflowId')} choices={workflows.map((w) => ({ id: w.workflowId, label: w.name, raw: true }))} placeholder={t('form.chooseWorkflow')} error={errorOf('workflow')} />
                  )}
                </div>
                {f.handlerType === 'direct_action' && action && (
                  <div className="mapping-layout">
                    <div className="mapping-fields">
                      <p className="muted small">
                        <span translate="no">{action.description}</span>
                      </p>
                      <p className="muted small">{t('form.mappingIntro')}</p>
                      {!creating && (
                        <div className="dry-run" id="dry-run">
                          <div className="dry-run-bar">
                            <TestInputPicker value={chosenInput} onChange={setTestInput} deliveries={deliveries.data ?? []} hasSample={hasSample} />
                            <Button id="dry-run-start" className="btn" onPress={() => runDryRun.mutate()} isDisabled={!chosenInput || runDryRun.isPending}>
                              {runDryRun.isPending ? t('dryRun.running') : t('dryRun.run')}
                            </Button>
                          </div>
                          <p className="muted small">{t('dryRun.intro')}</p>
                          {dryRunNow && <DryRunResult result={dryRunNow} />}
                        </div>
                      )}
                      {action.targetFields.map((field) => (
                        <div className="mapping-row" key={field.name}>
                          <div className="mapping-label">
                            <code translate="no">{field.name}</code>
                            <Chip tone="muted">
                              <span translate="no">{field.type}</span>
                            </Chip>
                            {field.required && <Chip tone="warn">{t('form.required')}</Chip>}
                          </div>
                          <div className="mapping-editor">
                            <Suspense fallback={editorFallback}>
                              <ExpressionEditor
                                id={`mapping-${field.name}`}
                                previewId={`preview-${field.name}`}
                                label={`${t('form.mappingFor')} ${field.name}`}
                                value={f.mappings[field.name] ?? ''}
                                onChange={(v) => setF((s) => ({ ...s, mappings: { ...s.mappings, [field.name]: v } }))}
                                input={testBody}
                                hasInput={hasTestBody}
                                field={sampleField(field)}
                                invalid={!!errorOf(`mapping-${field.name}`)}
                                onSyntax={syntaxOf(`mapping-${field.name}`)}
                                describedBy={`mapping-${field.name}-description${errorOf(`mapping-${field.name}`) ? ` mapping-${field.name}-error` : ''}`}
                                onFocus={(h) => (focused.current = h)}
                                footer={<DryRunField result={dryRunNow} name={field.name} />}
                                footerKey={JSON.stringify(dryRunNow?.fields.find((x) => x.name === field.name) ?? null)}
                              />
                            </Suspense>
                            {errorOf(`mapping-${field.name}`) && (
                              <span className="field-error" id={`mapping-${field.name}-error`}>
                                {errorOf(`mapping-${field.name}`)}
                              </span>
                            )}
                            <span className="field-description" id={`mapping-${field.name}-description`} translate="no">
                              {field.description}
                            </span>
                          </div>
                        </div>
                      ))}
                    </div>
                    <SamplePanel webhook={webhook} sample={sample} canUpdate={can('inbound_webhook:update')} onPick={insertPath} />
                  </div>
                )}
                {f.handlerType === 'workflow' && (
                  <div className="callout callout-info" id="workflow-envelope">
                    <strong>{t('form.envelopeTitle')}</strong>
                    <p>{t('form.envelopeBody')}</p>
                    {hasSample ? (
                      <>
                        <p className="muted small">{t('form.envelopeFromSample', { example: firstLeaf(samplePayload) || 'field' })}</p>
                        <SampleTree
                          sample={(dryRunNow?.envelope as Record<string, unknown> | undefined) ?? envelopeFor(f.slug, samplePayload)}
                          root="input"
                          id="envelope-tree"
                          idPrefix="envelope-node"
                          onPick={(path) => (focused.current ? focused.current.insert(path) : void navigator.clipboard?.writeText(path).then(() => notify(t('common.copied')), () => notify(path)))}
                        />
                      </>
                    ) : (
                      <pre className="code" translate="no">
                        {JSON.stringify(envelopeFor(f.slug, { '…': '…' }), null, 2)}
                      </pre>
                    )}
                  </div>
                )}
                {f.handlerType === 'workflow' && f.workflowId && (
                  <WorkflowSteps
                    workflowId={f.workflowId}
                    envelope={hasSample ? ((dryRunNow?.envelope as Record<string, unknown> | undefined) ?? envelopeFor(f.slug, samplePayload)) : null}
                    actions={actions}
                    canUpdate={can('inbound_webhook:update')}
                    onFocus={(h) => (focused.current = h)}
                  />
                )}
              </fieldset>

              <fieldset className="section">
                <legend>{t('form.limits')}</legend>
                <div className="grid-2">
                  <Field id="webhook-rate-limit" label={t('form.rateLimit')} value={f.rateLimit} onChange={set('rateLimit')} inputMode="numeric" description={t('form.rateLimitHint')} error={errorOf('rateLimit')} />
                  <Switch id="webhook-active" className="switch switch-labelled" isSelected={f.isActive} onChange={set('isActive')}>
                    <span className="switch-track" aria-hidden="true">
                      <span className="switch-thumb" />
                    </span>
                    {t('form.active')}
                  </Switch>
                </div>
              </fieldset>

              {!creating && (
                <fieldset className="section">
                  <legend>{t('versions.title')}</legend>
                  <p className="muted small">{t('versions.intro')}</p>
                  <VersionHistory webhookId={webhook.inboundWebhookId} onRestored={onClose} />
                </fieldset>
              )}

              {generalError && <ErrorState error={generalError} />}
              {problemCount > 0 && !generalError && (
                <p className="error-text" role="alert">
                  {t('form.fixProblems', { count: problemCount })}
                </p>
              )}
              {serverError && serverField && (
                <p className="error-text" role="alert">
                  {t('form.notSaved')} <span translate="no">{messageWithoutPath(serverError.message)}</span>
                </p>
              )}
              <div className="dialog-actions">
                <Button id="webhook-cancel" className="btn" onPress={onClose}>
                  {t('common.cancel')}
                </Button>
                <Button id="webhook-save" type="submit" className="btn btn-primary" isDisabled={save.isPending}>
                  {save.isPending ? t('form.saving') : creating ? t('form.create') : t('form.save')}
                </Button>
              </div>
            </Form>
          )}
          {confirmSave && (
            <ModalOverlay isOpen isDismissable onOpenChange={(o) => !o && setConfirmSave(null)} className="overlay">
              <Modal className="modal">
                <Dialog className="dialog" id="dry-run-confirm" aria-labelledby="dry-run-confirm-title">
                  <Heading slot="title" id="dry-run-confirm-title">
                    {t('dryRun.confirmTitle')}
                  </Heading>
                  <p>{t('dryRun.confirmBody')}</p>
                  <DryRunResult result={confirmSave} />
                  <div className="dialog-actions">
                    <Button id="dry-run-keep-editing" className="btn" onPress={() => setConfirmSave(null)}>
                      {t('dryRun.keepEditing')}
                    </Button>
                    <Button
                      id="dry-run-save-anyway"
                      className="btn btn-danger"
                      onPress={() => {
                        setConfirmSave(null);
                        save.mutate();
                      }}
                    >
                      {t('dryRun.saveAnyway')}
                    </Button>
                  </div>
                </Dialog>
              </Modal>
            </ModalOverlay>
          )}
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** The dry run's verdict on one field, under its preview. */
function DryRunField({ result, name }: { result: MappingPreview | null; name: string }) {
  const { t } = useTranslation();
  const field = result?.fields.find((x) => x.name === name);
  if (!field) return null;
  return (
    <p className={`dry-run-field ${field.problem ? 'preview-warn' : 'preview-ok'}`} id={`dry-run-${name}`}>
      {t('dryRun.field')}: <code translate="no">{field.value === null || field.value === undefined ? '—' : exampleOf(field.value, 80)}</code>{' '}
      {field.problem ? <span translate="no">⚠ {field.problem}</span> : '✓'}
    </p>
  );
}
