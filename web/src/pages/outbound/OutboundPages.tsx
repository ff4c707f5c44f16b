// The Outbound tab (a lazy chunk of its own): the subscription list at /settings/webhooks/outbound
// and one subscription with its delivery log at /settings/webhooks/outbound/<id>[?delivery=<id>].
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Route, Routes } from 'react-router';
import { Loading } from '../../components/ui.tsx';
import { OutboundList } from './OutboundList.tsx';
import { SubscriptionPage } from './SubscriptionPage.tsx';

export function OutboundPages() {
  const { t } = useTranslation();
  return (
    <Suspense fallback={<Loading label={t('common.loading')} />}>
      <Routes>
        <Route path="outbound/:subscriptionId" element={<SubscriptionPage />} />
        <Route path="*" element={<OutboundList />} />
      </Routes>
    </Suspense>
  );
}
