import { Router } from 'express';
import {
  bulkUsersSchema,
  deviceInputSchema,
  preferencesSchema,
  userInputSchema,
  type BulkUsersResult,
} from '../../contract/schemas';
import { toUserView, type UserService } from '../services/users.service';
import { parseBody, parseId } from '../validate';

export function usersRoutes(users: UserService): Router {
  const router = Router();

  router.post('/users/bulk', async (req, res) => {
    const { users: items } = parseBody(bulkUsersSchema, req.body);
    const results = await users.bulkUpsert(items);
    const failed = results.filter((r) => r.status === 'error').length;
    res
      .status(failed === 0 ? 200 : 207)
      .json({ succeeded: results.length - failed, failed, results } satisfies BulkUsersResult);
  });

  router.put('/users/:userId', async (req, res) => {
    const { user, created } = await users.upsert(
      parseId(req.params.userId, 'userId'),
      parseBody(userInputSchema, req.body),
    );
    res.status(created ? 201 : 200).json(user);
  });
  router.get('/users/:userId', async (req, res) => {
    res.json(toUserView(await users.requireUser(parseId(req.params.userId, 'userId'))));
  });
  router.delete('/users/:userId', async (req, res) => {
    res.json(await users.erase(parseId(req.params.userId, 'userId')));
  });

  router.post('/users/:userId/devices', async (req, res) => {
    const { device, created } = await users.registerDevice(
      parseId(req.params.userId, 'userId'),
      parseBody(deviceInputSchema, req.body),
    );
    res.status(created ? 201 : 200).json(device);
  });
  router.get('/users/:userId/devices', async (req, res) => {
    res.json({ devices: await users.listDevices(parseId(req.params.userId, 'userId')) });
  });
  router.delete('/users/:userId/devices/:deviceId', async (req, res) => {
    await users.removeDevice(parseId(req.params.userId, 'userId'), parseId(req.params.deviceId, 'deviceId'));
    res.status(204).end();
  });

  router.get('/users/:userId/preferences', async (req, res) => {
    res.json(await users.getPreferences(parseId(req.params.userId, 'userId')));
  });
  router.put('/users/:userId/preferences', async (req, res) => {
    res.json(await users.putPreferences(parseId(req.params.userId, 'userId'), parseBody(preferencesSchema, req.body)));
  });
  return router;
}
