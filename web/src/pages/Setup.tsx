// The one-time setup page `npm start` links to on an empty database: the MSP's workspace and its
// first admin, then signed in.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button, Form } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { ErrorState, Field, Loading, errorText } from '../components/ui.tsx';
import { ApiError, authCall, setCsrfToken, type Session } from '../lib/api.ts';

export function SetupPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ tenantSlug: '', tenantName: '', email: '', password: '', displayName: '' });
  const set = (key: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [key]: value }));
  const check = useQuery({
    queryKey: ['setup', token],
    queryFn: () => authCall<{ valid: boolean }>('GET', `/auth/setup?token=${encodeURIComponent(token)}`),
    enabled: token !== '',
    retry: false,
  });
  const submit = useMutation({
    mutationFn: () => authCall<Session>('POST', '/auth/setup', { token, ...form, displayName: form.displayName || undefined }),
    onSuccess: (session) => {
      setCsrfToken(session.signedIn ? session.csrfToken : null);
      queryClient.setQueryData(['session'], session);
      navigate('/settings/webhooks', { replace: true });
    },
  });
  const fieldError = (field: string) =>
    submit.error instanceof ApiError && submit.error.field === field ? errorText(t, submit.error) : null;
  const generalError = submit.error && !(submit.error instanceof ApiError && submit.error.field) ? submit.error : null;
  const passwordShort = form.password !== '' && form.password.length < 12;

  let body;
  if (!token) body = <p className="callout callout-warn">{t('setup.noToken')}</p>;
  else if (check.isPending) body = <Loading label={t('setup.checking')} />;
  else if (check.isError)
    body =
      check.error instanceof ApiError && check.error.code === 'SETUP_CLOSED' ? (
        <div className="callout callout-warn">
          <p>{t('setup.closed')}</p>
          <a id="setup-go-sign-in" href="/sign-in">
            {t('setup.goSignIn')}
          </a>
        </div>
      ) : (
        <ErrorState error={check.error} onRetry={() => void check.refetch()} />
      );
  else
    body = (
      <Form
        className="stack"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          submit.mutate();
        }}
      >
        <fieldset className="section">
          <legend>{t('setup.workspace')}</legend>
          <Field id="setup-tenant-name" label={t('setup.tenantName')} value={form.tenantName} onChange={set('tenantName')} isRequired error={fieldError('tenantName')} description={t('setup.tenantNameHint')} />
          <Field id="setup-tenant-slug" label={t('setup.tenantSlug')} value={form.tenantSlug} onChange={set('tenantSlug')} isRequired error={fieldError('tenantSlug')} description={t('setup.tenantSlugHint')} mono />
        </fieldset>
        <fieldset className="section">
          <legend>{t('setup.admin')}</legend>
          <Field id="setup-display-name" label={t('setup.displayName')} value={form.displayName} onChange={set('displayName')} error={fieldError('displayName')} autoComplete="name" />
          <Field id="setup-email" label={t('setup.email')} type="email" value={form.email} onChange={set('email')} isRequired error={fieldError('email')} autoComplete="username" />
          <Field
            id="setup-password"
            label={t('setup.password')}
            type="password"
            value={form.password}
            onChange={set('password')}
            isRequired
            error={fieldError('password') ?? (passwordShort ? t('setup.passwordShort') : null)}
            description={t('setup.passwordHint')}
            autoComplete="new-password"
          />
        </fieldset>
        {generalError && <ErrorState error={generalError} />}
        <Button id="setup-submit" type="submit" className="btn btn-primary" isDisabled={submit.isPending || passwordShort}>
          {submit.isPending ? t('setup.submitting') : t('setup.submit')}
        </Button>
      </Form>
    );
  return (
    <main className="auth-page">
      <div className="auth-card">
        <h1>{t('setup.title')}</h1>
        <p className="muted">{t('setup.intro')}</p>
        {body}
      </div>
    </main>
  );
}
