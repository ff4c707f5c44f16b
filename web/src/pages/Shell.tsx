// Settings → Webhooks: the header, the Inbound | Outbound tabs, and the Inbound tab's pages:
// webhooks, delivery log, rejections. The Outbound tab's pages are a lazy chunk (pages/outbound/).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, lazy, Suspense, useContext } from 'react';
import { Button, Link, Tab, TabList, TabPanel, Tabs } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { Route, Routes, useLocation, useNavigate } from 'react-router';
import { EmptyState, ErrorState, Loading, notify } from '../components/ui.tsx';
import { authCall, graphql, setCsrfToken, type Session } from '../lib/api.ts';
import { InboundList } from './InboundList.tsx';

const DeliveryLog = lazy(() => import('./DeliveryLog.tsx').then((m) => ({ default: m.DeliveryLog })));
const Rejections = lazy(() => import('./Rejections.tsx').then((m) => ({ default: m.Rejections })));
const OutboundPages = lazy(() => import('./outbound/OutboundPages.tsx').then((m) => ({ default: m.OutboundPages })));

export interface Permissions {
  can(permission: string): boolean;
}
const PermissionsContext = createContext<Permissions>({ can: () => false });
export const usePermissions = () => useContext(PermissionsContext);

type SignedIn = Extract<Session, { signedIn: true }>;

function InboundPages() {
  const { t } = useTranslation();
  const location = useLocation();
  const sub = location.pathname.replace(/^\/settings\/webhooks\/?/, '').split('/')[0] ?? '';
  const links = [
    { id: 'nav-webhooks', to: '/settings/webhooks', label: t('nav.webhooks'), current: sub === '' },
    { id: 'nav-deliveries', to: '/settings/webhooks/deliveries', label: t('nav.deliveries'), current: sub === 'deliveries' },
    { id: 'nav-rejections', to: '/settings/webhooks/rejections', label: t('nav.rejections'), current: sub === 'rejections' },
  ];
  return (
    <>
      <nav className="subnav" aria-label={t('nav.inbound')}>
        {links.map((l) => (
          <Link key={l.id} id={l.id} href={l.to} className="subnav-link" aria-current={l.current ? 'page' : undefined}>
            {l.label}
          </Link>
        ))}
      </nav>
      <Suspense fallback={<Loading label={t('common.loading')} />}>
      <Routes>
        <Route index element={<InboundList />} />
        <Route path="deliveries" element={<DeliveryLog />} />
        <Route path="rejections" element={<Rejections />} />
        <Route path="*" element={<InboundList />} />
      </Routes>
      </Suspense>
    </>
  );
}

export function SettingsShell({ session }: { session: SignedIn }) {
  const { t } = useTranslation();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const permissions = useQuery({
    queryKey: ['permissions'],
    queryFn: () => graphql<{ currentPermissions: (string | null)[] | null }>('{ currentPermissions }'),
  });
  const signOut = useMutation({
    mutationFn: () => authCall('POST', '/auth/sign-out'),
    onSuccess: () => {
      setCsrfToken(null);
      queryClient.clear();
      navigate('/sign-in', { replace: true });
    },
    onError: () => notify(t('shell.signOutFailed'), 'bad'),
  });
  const granted = new Set((permissions.data?.currentPermissions ?? []).filter((p): p is string => !!p));
  const can: Permissions = { can: (p) => granted.has(p) };
  const selected = location.pathname.startsWith('/settings/webhooks/outbound') ? 'outbound' : 'inbound';

  let inbound;
  if (!session.tenant.inboundWebhooksEnabled) {
    inbound = (
      <EmptyState title={t('flagOff.title')}>
        <p id="inbound-disabled">{t('flagOff.body')}</p>
      </EmptyState>
    );
  } else if (permissions.isPending) {
    inbound = <Loading label={t('common.loading')} />;
  } else if (permissions.isError) {
    inbound = <ErrorState error={permissions.error} onRetry={() => void permissions.refetch()} />;
  } else {
    inbound = <InboundPages />;
  }
  // outbound webhooks do not depend on the inbound flag
  const outbound = permissions.isPending ? (
    <Loading label={t('common.loading')} />
  ) : permissions.isError ? (
    <ErrorState error={permissions.error} onRetry={() => void permissions.refetch()} />
  ) : (
    <Suspense fallback={<Loading label={t('common.loading')} />}>
      <OutboundPages />
    </Suspense>
  );

  return (
    <PermissionsContext.Provider value={can}>
      <header className="topbar">
        <div className="brand">{t('app.name')}</div>
        <div className="topbar-right">
          <span className="workspace" translate="no" title={session.tenant.slug}>
            {session.tenant.name}
          </span>
          <span className="user" translate="no">
            {session.user.email}
          </span>
          <Button id="sign-out" className="btn btn-small" onPress={() => signOut.mutate()} isDisabled={signOut.isPending}>
            {t('shell.signOut')}
          </Button>
        </div>
      </header>
      <main className="page">
        <p className="breadcrumb">
          <span>{t('shell.settings')}</span> <span aria-hidden="true">›</span> <span>{t('shell.webhooks')}</span>
        </p>
        <h1>{t('shell.title')}</h1>
        <Tabs
          selectedKey={selected}
          onSelectionChange={(key) => navigate(key === 'outbound' ? '/settings/webhooks/outbound' : '/settings/webhooks')}
        >
          <TabList aria-label={t('shell.tabsLabel')} className="tabs">
            {/* React Aria generates each tab's DOM id (tab panels point at it), so the stable id
                for automation is on the label inside; a click on it selects the tab. */}
            <Tab id="inbound" className="tab">
              <span id="tab-inbound">{t('tabs.inbound')}</span>
            </Tab>
            <Tab id="outbound" className="tab">
              <span id="tab-outbound">{t('tabs.outbound')}</span>
            </Tab>
          </TabList>
          <TabPanel id="inbound" className="tab-panel">
            {inbound}
          </TabPanel>
          <TabPanel id="outbound" className="tab-panel">
            {outbound}
          </TabPanel>
        </Tabs>
      </main>
    </PermissionsContext.Provider>
  );
}
