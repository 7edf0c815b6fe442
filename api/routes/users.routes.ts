import { Router } from 'express';
import {
  bulkUsersSchema,
  deviceInputSchema,
  deviceSchema,
  idSchema,
  preferencesSchema,
  userInputSchema,
  userSchema,
  type BulkUsersResult,
} from '../../contract/schemas';
import { toUserView, type UserService } from '../services/users.service';
import { parseBody, parseId } from '../validate';
import type { OpenApiKit } from '../openapi-kit';
import { z } from 'zod';

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

/** This router's operations in /openapi.json (api/openapi.ts assembles the document). */
export function registerUsersOpenApi({ route, json, errors, path }: OpenApiKit): void {
  route({
    method: 'put',
    path: '/v1/users/{userId}',
    summary: 'Create or update a user',
    request: { params: path('userId'), body: { content: { 'application/json': { schema: userInputSchema } } } },
    responses: { 200: json(userSchema, 'Updated'), 201: json(userSchema, 'Created'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/users/bulk',
    summary: 'Create or update up to 1,000 users; per-item results (207 when some failed)',
    request: { body: { content: { 'application/json': { schema: bulkUsersSchema } } } },
    responses: { 200: { description: 'All succeeded' }, 207: { description: 'Some failed; see results' }, ...errors },
  });
  route({
    method: 'get',
    path: '/v1/users/{userId}',
    request: { params: path('userId') },
    responses: { 200: json(userSchema, 'The user'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/users/{userId}',
    summary: 'Erase the user, their devices, preferences and personal data in the log',
    request: { params: path('userId') },
    responses: { 200: json(z.object({ erased: z.record(z.string(), z.number()) }), 'What was erased'), ...errors },
  });
  route({
    method: 'post',
    path: '/v1/users/{userId}/devices',
    summary: 'Register a device (the same token again updates it)',
    request: { params: path('userId'), body: { content: { 'application/json': { schema: deviceInputSchema } } } },
    responses: { 201: json(deviceSchema, 'Registered'), 200: json(deviceSchema, 'Already registered'), ...errors },
  });
  route({
    method: 'get',
    path: '/v1/users/{userId}/devices',
    request: { params: path('userId') },
    responses: { 200: json(z.object({ devices: z.array(deviceSchema) }), 'Devices with their state'), ...errors },
  });
  route({
    method: 'delete',
    path: '/v1/users/{userId}/devices/{deviceId}',
    request: { params: z.object({ userId: idSchema, deviceId: idSchema }) },
    responses: { 204: { description: 'Unregistered' }, ...errors },
  });
  for (const method of ['get', 'put'] as const) {
    route({
      method,
      path: '/v1/users/{userId}/preferences',
      request: {
        params: path('userId'),
        ...(method === 'put' ? { body: { content: { 'application/json': { schema: preferencesSchema } } } } : {}),
      },
      responses: { 200: json(preferencesSchema, 'Preferences'), ...errors },
    });
  }
}
