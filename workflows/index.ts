export { sendNotification } from './send-notification.workflow';
export { notificationIntake } from './notification-intake.workflow';
export { userThrottle } from './user-throttle.workflow';
export { campaignRun } from './campaign-run.workflow';
export { digestBatch } from './digest.workflow';
