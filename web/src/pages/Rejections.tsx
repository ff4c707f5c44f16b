// Requests the receiver turned away (401): when, for which slug, why, from where.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { EmptyState, ErrorState, Loading, RelTime } from '../components/ui.tsx';
import { graphql } from '../lib/api.ts';
import { REJECTIONS_QUERY, type Rejection } from '../lib/queries.ts';

export function Rejections() {
  const { t } = useTranslation();
  const rejections = useInfiniteQuery({
    queryKey: ['rejections'],
    queryFn: async ({ pageParam }) =>
      (await graphql<{ inboundWebhookAuthRejections: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Rejection[] } }>(REJECTIONS_QUERY, { first: 50, after: pageParam }))
        .inboundWebhookAuthRejections,
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.pageInfo.hasNextPage ? last.pageInfo.endCursor : undefined),
    refetchInterval: 5_000,
  });
  const rows = rejections.data?.pages.flatMap((p) => p.nodes) ?? [];
  return (
    <section aria-labelledby="rejections-heading">
      <div className="section-head">
        <div>
          <h2 id="rejections-heading">{t('rejections.title')}</h2>
          <p className="muted">{t('rejections.subtitle')}</p>
        </div>
      </div>
      {rejections.isPending ? (
        <Loading label={t('common.loading')} />
      ) : rejections.isError ? (
        <ErrorState error={rejections.error} onRetry={() => void rejections.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={t('rejections.emptyTitle')}>
          <p>{t('rejections.emptyBody')}</p>
        </EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" id="rejection-log">
              <thead>
                <tr>
                  <th scope="col">{t('rejections.colTime')}</th>
                  <th scope="col">{t('rejections.colSlug')}</th>
                  <th scope="col">{t('rejections.colReason')}</th>
                  <th scope="col">{t('rejections.colIp')}</th>
                  <th scope="col">{t('rejections.colAgent')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.rejectionId}>
                    <td>
                      <RelTime value={r.lastReceivedAt} />
                      {r.repeatCount > 1 && <div className="cell-sub">{t('rejections.repeats', { count: r.repeatCount })}</div>}
                    </td>
                    <td className="mono" translate="no">
                      {r.webhookSlug}
                    </td>
                    <td>
                      <div>{t(`authStatus.${r.authStatus}`, { defaultValue: r.authStatus })}</div>
                      <div className="cell-sub mono" translate="no">
                        {r.reason}
                      </div>
                    </td>
                    <td className="mono" translate="no">
                      {r.sourceIp ?? '—'}
                    </td>
                    <td translate="no" title={r.userAgent ?? ''}>
                      <span className="clamp">{r.userAgent ?? '—'}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rejections.hasNextPage && (
            <div className="pager">
              <Button id="rejections-more" className="btn" onPress={() => void rejections.fetchNextPage()}>
                {t('log.more')}
              </Button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
