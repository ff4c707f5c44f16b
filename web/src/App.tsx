import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { RouterProvider } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useHref, useLocation, useNavigate } from 'react-router';
import { Loading, ErrorState, ToastHost } from './components/ui.tsx';
import { fetchSession, setUnauthenticatedHandler, type Session } from './lib/api.ts';
import { SettingsShell } from './pages/Shell.tsx';

// pages and dialogs not on the first screen load when needed, to keep the initial JS small
const SetupPage = lazy(() => import('./pages/Setup.tsx').then((m) => ({ default: m.SetupPage })));
const SignInPage = lazy(() => import('./pages/SignIn.tsx').then((m) => ({ default: m.SignInPage })));

export function useSession() {
  return useQuery<Session>({ queryKey: ['session'], queryFn: fetchSession, staleTime: 60_000 });
}

function RequireSession({ children }: { children: (session: Extract<Session, { signedIn: true }>) => ReactNode }) {
  const { t } = useTranslation();
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <Loading label={t('common.loading')} />;
  if (session.isError) return <ErrorState error={session.error} onRetry={() => void session.refetch()} />;
  if (!session.data.signedIn) {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children(session.data)}</>;
}

export function App() {
  const navigate = useNavigate();
  const { t } = useTranslation();
  useEffect(() => {
    setUnauthenticatedHandler(() => {
      const next = window.location.pathname + window.location.search;
      if (!window.location.pathname.startsWith('/sign-in')) navigate(`/sign-in?next=${encodeURIComponent(next)}`);
    });
  }, [navigate]);
  useEffect(() => {
    document.title = t('app.title');
  }, [t]);
  return (
    <RouterProvider navigate={(to, options) => navigate(to, options as never)} useHref={useHref}>
      <Suspense fallback={<Loading label={t('common.loading')} />}>
      <Routes>
        <Route path="/setup" element={<SetupPage />} />
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/settings/webhooks/*" element={<RequireSession>{(session) => <SettingsShell session={session} />}</RequireSession>} />
        <Route path="*" element={<Navigate to="/settings/webhooks" replace />} />
      </Routes>
      </Suspense>
      <ToastHost />
    </RouterProvider>
  );
}
