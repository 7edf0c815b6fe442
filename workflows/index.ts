export { sendNotification } from './send-notification.workflow';
export { notificationIntake } from './notification-intake.workflow';
export { campaignRun } from './campaign-run.workflow';
