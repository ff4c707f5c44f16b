// The steps of the workflow a webhook runs, in the webhook dialog: each step's condition (`when`)
// and action inputs in the same JSONata editor as a direct action's mapping, evaluated on what a
// step's expression sees — { input: <the envelope built from the sample>, steps: {}, vars: {} } —
// so `input.body.` completes from the sample. Saved to the workflow itself (updateWorkflow: a
// new version of the workflow, for every webhook that runs it), apart from the webhook's Save.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, useRef, useState } from 'react';
import { Button } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Chip, ErrorState, Loading, errorText, notify } from '../components/ui.tsx';
import type { EditorHandle } from '../editor/ExpressionEditor.tsx';
import type { FieldInfo } from '../editor/fieldCheck.ts';
import { graphql } from '../lib/api.ts';
import { UPDATE_WORKFLOW, WORKFLOW_QUERY, type InboundAction, type WorkflowDetail, type WorkflowStep } from '../lib/queries.ts';

const ExpressionEditor = lazy(() => import('../editor/ExpressionEditor.tsx').then((m) => ({ default: m.ExpressionEditor })));
/** a condition is read with $boolean: any value will do */
const WHEN_FIELD: FieldInfo = { name: 'when', type: 'any', required: false };

export function WorkflowSteps({ workflowId, envelope, actions, canUpdate, onFocus }: {
  workflowId: string;
  /** the envelope built from the sample (or the dry run's), or null without a sample */
  envelope: Record<string, unknown> | null;
  actions: InboundAction[];
  canUpdate: boolean;
  onFocus: (handle: EditorHandle) => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const workflow = useQuery({
    queryKey: ['workflow', workflowId],
    queryFn: async () => (await graphql<{ workflow: WorkflowDetail | null }>(WORKFLOW_QUERY, { id: workflowId })).workflow,
  });
  const [draft, setDraft] = useState<WorkflowStep[] | null>(null);
  const steps = draft ?? workflow.data?.definition.steps ?? [];
  // the editors keep the callbacks of their first render: they edit the steps as they are now
  const latest = useRef(steps);
  latest.current = steps;
  const scope = useMemo(() => (envelope ? { input: envelope, steps: {}, vars: {} } : null), [envelope]);
  const save = useMutation({
    mutationFn: () => graphql(UPDATE_WORKFLOW, { input: { workflowId, definition: { ...workflow.data!.definition, steps } } }),
    onSuccess: () => {
      notify(t('workflowSteps.saved', { name: workflow.data?.name ?? '' }));
      setDraft(null);
      void queryClient.invalidateQueries({ queryKey: ['workflow', workflowId] });
    },
    onError: (e) => notify(errorText(t, e), 'bad'),
  });
  const edit = (index: number, change: (s: WorkflowStep) => WorkflowStep) =>
    setDraft((d) => (d ?? latest.current).map((s, i) => (i === index ? change(s) : s)));

  if (workflow.isPending) return <Loading label={t('common.loading')} />;
  if (workflow.isError) return <ErrorState error={workflow.error} onRetry={() => void workflow.refetch()} id="workflow-steps-retry" />;
  if (!workflow.data) return null;
  return (
    <section className="workflow-steps" id="workflow-steps" aria-labelledby="workflow-steps-title">
      <h4 id="workflow-steps-title">{t('workflowSteps.title', { name: workflow.data.name })}</h4>
      <p className="muted small">{t('workflowSteps.intro')}</p>
      {steps.length === 0 && <p className="muted small">{t('workflowSteps.none')}</p>}
      {steps.map((step, index) => {
        const action = actions.find((a) => a.name === step.action);
        const editor = (key: string, label: string, value: string, field: FieldInfo, onChange: (v: string) => void, placeholder?: string) => (
          <div className="mapping-row" key={key}>
            <div className="mapping-label">
              <code translate="no">{label}</code>
            </div>
            <div className="mapping-editor">
              <Suspense fallback={<div className="expr-loading" aria-hidden="true" />}>
                <ExpressionEditor
                  id={`step-${step.id}-${key}`}
                  previewId={`preview-step-${step.id}-${key}`}
                  label={t('workflowSteps.editorLabel', { step: step.id, part: label })}
                  value={value}
                  onChange={onChange}
                  input={scope}
                  hasInput={scope !== null}
                  field={field}
                  onFocus={onFocus}
                  {...(placeholder ? { placeholder } : {})}
                />
              </Suspense>
            </div>
          </div>
        );
        return (
          <div className="workflow-step" key={step.id} id={`workflow-step-${step.id}`}>
            <div className="workflow-step-head">
              <strong translate="no">{step.id}</strong>
              <Chip tone="muted">
                <span translate="no">{action?.displayName ?? step.action ?? t('workflowSteps.noAction')}</span>
              </Chip>
            </div>
            {editor('when', 'when', step.when ?? '', WHEN_FIELD, (v) => edit(index, (s) => {
              const { when: _, ...rest } = s;
              return v.trim() ? { ...rest, when: v } : rest;
            }), t('workflowSteps.always'))}
            {Object.entries(step.input ?? {}).map(([name, expression]) => {
              const target = action?.targetFields.find((f) => f.name === name);
              const field: FieldInfo = target ? { name, type: target.type, required: target.required, enumValues: target.enumValues } : { name, type: 'any', required: false };
              return editor(`input-${name}`, `input.${name}`, expression, field, (v) => edit(index, (s) => ({ ...s, input: { ...s.input, [name]: v } })));
            })}
          </div>
        );
      })}
      {canUpdate && steps.length > 0 && (
        <div className="workflow-steps-actions">
          <Button id="workflow-save" className="btn" onPress={() => save.mutate()} isDisabled={draft === null || save.isPending}>
            {save.isPending ? t('form.saving') : t('workflowSteps.save')}
          </Button>
          <span className="muted small">{t('workflowSteps.saveHint')}</span>
        </div>
      )}
    </section>
  );
}
