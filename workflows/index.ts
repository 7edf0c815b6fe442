export { sendNotification } from './send-notification.workflow';
