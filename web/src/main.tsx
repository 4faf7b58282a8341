import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, makeQueryClient } from './App';
import { captureInstallPrompt } from './offline/install';
import { seedOnlineState, sendsWaitForNetwork, watchConnectivity } from './offline/online';
import { startServiceWorker } from './push/push';
import { navigate } from './router';
// Stylesheets, in cascade order.
import './styles/base.css';
import './styles/controls.css';
import './styles/shell.css';
import './styles/messages.css';
import './styles/chat.css';
import './styles/pages.css';
import './styles/coaching.css';
import './styles/admin.css';
import './styles/phone.css';

// Before the first render: a page opened offline starts paused; the install prompt may come early.
seedOnlineState();
captureInstallPrompt();
const client = makeQueryClient();
watchConnectivity(client);
sendsWaitForNetwork(client);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);

// The push service worker (/sw.js); a click on a notification navigates through the router.
if (document.readyState === 'complete') startServiceWorker((path) => navigate(path));
else window.addEventListener('load', () => startServiceWorker((path) => navigate(path)), { once: true });
