import { parsePersistenceCounts, persistencePerUnit } from './server-metrics';

// As the Temporal server prints them: one series per namespace and operation (and other labels), plus neighbours
// whose names only start the same way.
const BEFORE = `# HELP persistence_requests persistence_requests counter
# TYPE persistence_requests counter
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} 10
persistence_requests{namespace="temporal_system",operation="UpdateWorkflowExecution",service_name="history"} 2
persistence_requests{operation="CreateTasks",service_name="matching",task_type="Activity"} 4
persistence_requests_total_bogus{operation="CreateTasks"} 999
persistence_latency_count{operation="CreateTasks",service_name="matching"} 4
visibility_persistence_requests{namespace="default",operation="RecordWorkflowExecutionStarted",visibility_type="standard_visibility"} 5
`;

describe('the Temporal server persistence counters', () => {
  it('sums each operation over every series and keeps visibility apart', () => {
    expect(parsePersistenceCounts(BEFORE)).toEqual({
      UpdateWorkflowExecution: 12,
      CreateTasks: 4,
      'visibility:RecordWorkflowExecutionStarted': 5,
    });
  });

  it('reports what happened between two readings per unit, largest first', () => {
    const after = parsePersistenceCounts(
      BEFORE.replace('"history"} 10', '"history"} 30')
        .replace('"Activity"} 4', '"Activity"} 9')
        .replace('"standard_visibility"} 5', '"standard_visibility"} 15'),
    );
    const per = persistencePerUnit(parsePersistenceCounts(BEFORE), after, 10);
    expect(per).toEqual({
      total: 3.5,
      byOperation: { UpdateWorkflowExecution: 2, 'visibility:RecordWorkflowExecutionStarted': 1, CreateTasks: 0.5 },
    });
    expect(Object.keys(per!.byOperation)).toEqual([
      'UpdateWorkflowExecution',
      'visibility:RecordWorkflowExecutionStarted',
      'CreateTasks',
    ]);
    expect(persistencePerUnit({}, after, 0)).toBeNull();
  });
});
