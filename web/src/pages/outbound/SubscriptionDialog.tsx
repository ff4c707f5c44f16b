// Create / edit an outbound subscription: Endpoint (URL, description), Events (the picker grouped by
// entity, with "entity.*" and "*"), Custom headers, Limits. The browser checks what it can as the
// admin types (lib/outbound.ts); the server checks the rest (https, addresses) and its error goes
// under the field it names.
import { useMutation } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Button, Checkbox, Form, Switch } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { ErrorState, Field, Loading, ModalDialog } from '../../components/ui.tsx';
import { ApiError, graphql } from '../../lib/api.ts';
import {
  eventDomId, groupByEntity, headerProblems, headerRows, headersObject, isCovered, normalizePatterns, outboundFieldOf, rateLimitProblem,
  toggleAll, toggleEntity, toggleType, urlProblem, withoutFieldName, type HeaderRow, type OutboundField,
} from '../../lib/outbound.ts';
import { CREATE_SUBSCRIPTION, UPDATE_SUBSCRIPTION, type OutboundEventType, type OutboundSubscription } from '../../lib/outboundQueries.ts';
import { useEventTypes, useRefreshOutbound } from './data.ts';

export interface CreatedSubscription {
  subscription: OutboundSubscription;
  secret: string;
}

function Check({ id, isSelected, isDisabled, onChange, inline, children }: { id: string; isSelected: boolean; isDisabled?: boolean; onChange: (on: boolean) => void; inline?: boolean; children: ReactNode }) {
  return (
    <Checkbox id={id} className="checkbox" isSelected={isSelected} isDisabled={isDisabled ?? false} onChange={onChange}>
      <span className="checkbox-box" aria-hidden="true" />
      <span className={inline ? 'checkbox-label checkbox-label-inline' : 'checkbox-label'}>{children}</span>
    </Checkbox>
  );
}

export function EventTypePicker({ catalogue, selected, onChange, error }: { catalogue: OutboundEventType[]; selected: string[]; onChange: (next: string[]) => void; error: string | null }) {
  const { t } = useTranslation();
  const everything = selected.includes('*');
  return (
    <div id="outbound-events" className="event-picker" role="group" aria-labelledby="outbound-events-label" aria-describedby={error ? 'outbound-events-error' : undefined}>
      <div className="event-picker-top">
        <span id="outbound-events-label" className="field-label">
          {t('outbound.form.events')}
        </span>
        <Check id="outbound-event-all" inline isSelected={everything} onChange={(on) => onChange(toggleAll(on))}>
          {t('outbound.form.allEvents')} <code translate="no">*</code>
        </Check>
      </div>
      <p className="muted small">{t('outbound.form.eventsHint')}</p>
      {error && (
        <p className="error-text small" id="outbound-events-error">
          {error}
        </p>
      )}
      <div className="event-groups">
        {groupByEntity(catalogue).map(([entity, types]) => {
          const wildcard = `${entity}.*`;
          const whole = everything || selected.includes(wildcard);
          return (
            <fieldset key={entity} className="event-group">
              <legend>{t(`outbound.entity.${entity}`, { defaultValue: entity })}</legend>
              <Check id={`outbound-event-group-${eventDomId(entity)}`} inline isSelected={whole} isDisabled={everything} onChange={(on) => onChange(toggleEntity(selected, entity, on, catalogue))}>
                {t('outbound.form.allOfEntity')} <code translate="no">{wildcard}</code>
              </Check>
              {types.map((type) => (
                <Check
                  key={type.name}
                  id={`outbound-event-${eventDomId(type.name)}`}
                  isSelected={isCovered(selected, type.name)}
                  isDisabled={whole}
                  onChange={(on) => onChange(toggleType(selected, type.name, on, catalogue))}
                >
                  <code translate="no">{type.name}</code>
                  <span className="muted small event-description">{t(`outbound.eventType.${eventDomId(type.name)}`, { defaultValue: type.description })}</span>
                </Check>
              ))}
            </fieldset>
          );
        })}
      </div>
    </div>
  );
}

function HeadersEditor({ rows, onChange, serverError }: { rows: HeaderRow[]; onChange: (rows: HeaderRow[]) => void; serverError: string | null }) {
  const { t } = useTranslation();
  const problems = headerProblems(rows);
  const set = (index: number, patch: Partial<HeaderRow>) => onChange(rows.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  return (
    <div id="outbound-headers" className="stack-tight">
      <p className="muted small">{t('outbound.form.headersHint')}</p>
      {rows.length > 0 && (
        <div className="header-rows">
          <span className="label" aria-hidden="true">
            {t('outbound.form.headerName')}
          </span>
          <span className="label" aria-hidden="true">
            {t('outbound.form.headerValue')}
          </span>
          <span />
          {rows.map((row, index) => {
            const problem = problems.get(index);
            return (
              <div className="header-row" key={index}>
                <Field
                  id={`outbound-header-name-${index}`}
                  label={t('outbound.form.headerNameN', { n: index + 1 })}
                  className="label-hidden"
                  value={row.name}
                  onChange={(name) => set(index, { name })}
                  error={problem && problem !== 'lineBreak' ? t(`outbound.form.headerProblem.${problem}`) : null}
                  placeholder="X-Team"
                  mono
                />
                <Field
                  id={`outbound-header-value-${index}`}
                  label={t('outbound.form.headerValueN', { n: index + 1 })}
                  className="label-hidden"
                  value={row.value}
                  onChange={(value) => set(index, { value })}
                  error={problem === 'lineBreak' ? t('outbound.form.headerProblem.lineBreak') : null}
                  mono
                />
                <Button id={`outbound-header-remove-${index}`} className="btn-icon" aria-label={t('outbound.form.removeHeader', { n: index + 1 })} onPress={() => onChange(rows.filter((_, i) => i !== index))}>
                  ×
                </Button>
              </div>
            );
          })}
        </div>
      )}
      {serverError && <p className="error-text small">{serverError}</p>}
      <div>
        <Button id="outbound-header-add" className="btn btn-small" onPress={() => onChange([...rows, { name: '', value: '' }])}>
          {t('outbound.form.addHeader')}
        </Button>
      </div>
    </div>
  );
}

interface FormState {
  url: string;
  description: string;
  eventTypes: string[];
  headers: HeaderRow[];
  rateLimit: string;
  isActive: boolean;
}

const FIELD_IDS: Record<OutboundField, string> = {
  url: 'outbound-url',
  description: 'outbound-description',
  eventTypes: 'outbound-event-all',
  headers: 'outbound-header-add',
  rateLimit: 'outbound-rate-limit',
};

function focusField(field: OutboundField | null): void {
  if (!field) return;
  requestAnimationFrame(() => {
    const el = document.getElementById(FIELD_IDS[field]);
    el?.scrollIntoView({ block: 'center' });
    el?.focus();
  });
}

export function SubscriptionDialog({ subscription, onClose, onCreated }: { subscription: OutboundSubscription | null; onClose: () => void; onCreated: (created: CreatedSubscription) => void }) {
  const { t } = useTranslation();
  const refresh = useRefreshOutbound();
  const eventTypes = useEventTypes();
  const creating = subscription === null;
  const [f, setF] = useState<FormState>(() => ({
    url: subscription?.url ?? '',
    description: subscription?.description ?? '',
    eventTypes: subscription?.eventTypes ?? [],
    headers: headerRows(subscription?.headers),
    rateLimit: subscription?.rateLimitPerMinute ? String(subscription.rateLimitPerMinute) : '',
    isActive: subscription?.isActive ?? true,
  }));
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<Error | null>(null);
  const set = <K extends keyof FormState>(key: K) => (value: FormState[K]) => {
    setF((s) => ({ ...s, [key]: value }));
    setServerError(null);
  };

  const problems = useMemo(() => {
    const p: Partial<Record<OutboundField, string>> = {};
    const url = urlProblem(f.url);
    if (url) p.url = t(`outbound.form.urlProblem.${url}`);
    if (f.eventTypes.length === 0) p.eventTypes = t('outbound.form.eventsRequired');
    if (headerProblems(f.headers).size > 0) p.headers = t('outbound.form.headersInvalid');
    if (rateLimitProblem(f.rateLimit)) p.rateLimit = t('outbound.form.rateLimitProblem');
    return p;
  }, [f, t]);

  const serverField = serverError instanceof ApiError ? outboundFieldOf(serverError) : null;
  const errorOf = (field: OutboundField): string | null => {
    if (serverField === field && serverError) return withoutFieldName(serverError.message);
    // the URL is checked live once something is typed; the rest on Save
    if (field === 'url' && f.url.trim() && problems.url) return problems.url;
    return submitted ? (problems[field] ?? null) : null;
  };

  const save = useMutation({
    mutationFn: async () => {
      const catalogue = eventTypes.data ?? [];
      const fields = {
        url: f.url.trim(),
        description: f.description.trim() || null,
        eventTypes: normalizePatterns(f.eventTypes, catalogue),
        headers: headersObject(f.headers),
        rateLimitPerMinute: f.rateLimit.trim() ? Number(f.rateLimit) : null,
        isActive: f.isActive,
      };
      if (creating) {
        const data = await graphql<{ createOutboundSubscription: { secret: string; outboundSubscription: OutboundSubscription } }>(CREATE_SUBSCRIPTION, { input: fields });
        return data.createOutboundSubscription;
      }
      await graphql(UPDATE_SUBSCRIPTION, { id: subscription.subscriptionId, patch: fields });
      return null;
    },
    onSuccess: (created) => {
      refresh();
      if (created) onCreated({ subscription: created.outboundSubscription, secret: created.secret });
      else onClose();
    },
    onError: (error) => {
      setServerError(error);
      focusField(error instanceof ApiError ? outboundFieldOf(error) : null);
    },
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setServerError(null);
    const first = (Object.keys(FIELD_IDS) as OutboundField[]).find((k) => problems[k]);
    if (first) {
      focusField(first);
      return;
    }
    save.mutate();
  };

  const generalError = serverError && !serverField ? serverError : null;
  const problemCount = submitted ? Object.keys(problems).length : 0;
  const wasAutoDisabled = !!subscription?.autoDisabledAt && !subscription.isActive;

  return (
    <ModalDialog id="outbound-dialog" title={creating ? t('outbound.form.createTitle') : t('outbound.form.editTitle')} size="wide" isDismissable={false}>
          {eventTypes.isPending ? (
            <Loading label={t('common.loading')} />
          ) : eventTypes.isError ? (
            <ErrorState error={eventTypes.error} onRetry={() => void eventTypes.refetch()} />
          ) : (
            <Form className="form" onSubmit={onSubmit} validationBehavior="aria">
              <fieldset className="section">
                <legend>{t('outbound.form.endpoint')}</legend>
                <Field
                  id="outbound-url"
                  label={t('outbound.form.url')}
                  value={f.url}
                  onChange={set('url')}
                  isRequired
                  mono
                  placeholder="https://hooks.example.com/intake"
                  description={t('outbound.form.urlHint')}
                  error={errorOf('url')}
                />
                <Field id="outbound-description" label={t('outbound.form.description')} value={f.description} onChange={set('description')} description={t('outbound.form.descriptionHint')} error={errorOf('description')} />
              </fieldset>

              <fieldset className="section">
                <legend>{t('outbound.form.eventsSection')}</legend>
                <EventTypePicker catalogue={eventTypes.data} selected={f.eventTypes} onChange={set('eventTypes')} error={errorOf('eventTypes')} />
              </fieldset>

              <fieldset className="section">
                <legend>{t('outbound.form.headers')}</legend>
                <HeadersEditor rows={f.headers} onChange={set('headers')} serverError={serverField === 'headers' && serverError ? withoutFieldName(serverError.message) : null} />
              </fieldset>

              <fieldset className="section">
                <legend>{t('outbound.form.limits')}</legend>
                <div className="grid-2">
                  <Field id="outbound-rate-limit" label={t('outbound.form.rateLimit')} value={f.rateLimit} onChange={set('rateLimit')} inputMode="numeric" placeholder={t('outbound.form.noLimit')} description={t('outbound.form.rateLimitHint')} error={errorOf('rateLimit')} />
                  <Switch id="outbound-active" className="switch switch-labelled" isSelected={f.isActive} onChange={set('isActive')}>
                    <span className="switch-track" aria-hidden="true">
                      <span className="switch-thumb" />
                    </span>
                    {t('outbound.form.active')}
                  </Switch>
                </div>
                {wasAutoDisabled && f.isActive && <p className="callout callout-info small">{t('outbound.form.reenableNote')}</p>}
              </fieldset>

              {generalError && <ErrorState error={generalError} />}
              {problemCount > 0 && !generalError && (
                <p className="error-text" role="alert">
                  {t('outbound.form.fixProblems', { count: problemCount })}
                </p>
              )}
              {serverError && serverField && (
                <p className="error-text" role="alert">
                  {t('outbound.form.notSaved')} <span translate="no">{withoutFieldName(serverError.message)}</span>
                </p>
              )}
              <div className="dialog-actions">
                <Button id="outbound-cancel" className="btn" onPress={onClose}>
                  {t('common.cancel')}
                </Button>
                <Button id="outbound-save" type="submit" className="btn btn-primary" isDisabled={save.isPending}>
                  {save.isPending ? t('outbound.form.saving') : creating ? t('outbound.form.create') : t('outbound.form.save')}
                </Button>
              </div>
            </Form>
          )}
    </ModalDialog>
  );
}
