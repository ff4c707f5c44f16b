import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.tsx';
import { initI18n } from './lib/i18n.ts';
import './styles.css';

initI18n();

const queryClient = new QueryClient({
  defaultOptions: {
    // one retry, then the error state: a failed request never leaves a spinner forever
    queries: { retry: 1, retryDelay: 500, refetchOnWindowFocus: false, staleTime: 5_000 },
    mutations: { retry: false },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
