// The Outbound tab's shared queries: the subscription list, one subscription, the event-type
// catalogue. Query keys start with 'outbound' so a change can refresh them all at once.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { graphql } from '../../lib/api.ts';
import {
  EVENT_TYPES_QUERY, SUBSCRIPTION_QUERY, SUBSCRIPTIONS_QUERY,
  type OutboundEventType, type OutboundSubscription, type OutboundSubscriptionDetail,
} from '../../lib/outboundQueries.ts';

export const LIST_KEY = ['outbound', 'subscriptions'] as const;

export function useSubscriptions() {
  return useQuery({
    queryKey: LIST_KEY,
    queryFn: async () => (await graphql<{ outboundSubscriptions: { nodes: OutboundSubscription[] } }>(SUBSCRIPTIONS_QUERY)).outboundSubscriptions.nodes,
    // Intake itself changes a subscription (failing streak, auto-disable): keep the list current
    refetchInterval: 10_000,
  });
}

export function useSubscription(id: string) {
  return useQuery({
    queryKey: ['outbound', 'subscription', id],
    queryFn: async () => (await graphql<{ outboundSubscription: OutboundSubscriptionDetail | null }>(SUBSCRIPTION_QUERY, { id })).outboundSubscription,
    refetchInterval: 5_000,
  });
}

export function useEventTypes() {
  return useQuery({
    queryKey: ['outbound', 'event-types'],
    queryFn: async () => (await graphql<{ outboundEventTypes: OutboundEventType[] }>(EVENT_TYPES_QUERY)).outboundEventTypes,
    staleTime: 10 * 60_000,
  });
}

/** Refreshes every outbound query (after any change). */
export function useRefreshOutbound(): () => void {
  const queryClient = useQueryClient();
  return () => void queryClient.invalidateQueries({ queryKey: ['outbound'] });
}

export function subscriptionHref(id: string): string {
  return `/settings/webhooks/outbound/${id}`;
}
