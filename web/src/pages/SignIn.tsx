import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button, Form } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { useSession } from '../App.tsx';
import { ErrorState, Field, Loading } from '../components/ui.tsx';
import { ApiError, authCall, setCsrfToken, type Session } from '../lib/api.ts';

function safeNext(next: string | null): string {
  // only a path inside this app: never an open redirect
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/settings/webhooks';
}

export function SignInPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  const [form, setForm] = useState({ workspace: '', email: '', password: '' });
  const submit = useMutation({
    mutationFn: () => authCall<Session>('POST', '/auth/sign-in', form),
    onSuccess: (s) => {
      setCsrfToken(s.signedIn ? s.csrfToken : null);
      queryClient.setQueryData(['session'], s);
      navigate(safeNext(params.get('next')), { replace: true });
    },
  });
  const set = (key: keyof typeof form) => (value: string) => {
    setForm((f) => ({ ...f, [key]: value }));
    if (submit.isError) submit.reset(); // the old answer no longer applies to what is typed
  };
  if (session.isPending) return <Loading label={t('common.loading')} />;
  if (session.data?.signedIn) return <Navigate to={safeNext(params.get('next'))} replace />;
  const setupRequired = session.data && !session.data.signedIn && session.data.setupRequired;
  const error = submit.error;
  return (
    <main className="auth-page">
      <div className="auth-card">
        <h1>{t('signIn.title')}</h1>
        <p className="muted">{t('signIn.intro')}</p>
        {setupRequired && <p className="callout callout-warn">{t('signIn.setupRequired')}</p>}
        {session.isError && <ErrorState error={session.error} onRetry={() => void session.refetch()} />}
        <Form
          className="stack"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            submit.mutate();
          }}
        >
          <Field id="sign-in-workspace" label={t('signIn.workspace')} value={form.workspace} onChange={set('workspace')} isRequired autoComplete="organization" description={t('signIn.workspaceHint')} mono />
          <Field id="sign-in-email" label={t('signIn.email')} type="email" value={form.email} onChange={set('email')} isRequired autoComplete="username" />
          <Field id="sign-in-password" label={t('signIn.password')} type="password" value={form.password} onChange={set('password')} isRequired autoComplete="current-password" />
          {error && (
            <div className="callout callout-error" role="alert" id="sign-in-error">
              {error instanceof ApiError && error.code === 'UNAUTHENTICATED'
                ? t('signIn.wrong')
                : error instanceof ApiError && error.code === 'RATE_LIMITED'
                  ? t('signIn.rateLimited')
                  : t('errors.unexpected')}
            </div>
          )}
          <Button id="sign-in-submit" type="submit" className="btn btn-primary" isDisabled={submit.isPending}>
            {submit.isPending ? t('signIn.submitting') : t('signIn.submit')}
          </Button>
        </Form>
      </div>
    </main>
  );
}
