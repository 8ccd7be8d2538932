namespace Capstan.Runtime.Hosting;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;

/// <summary>What an agent host looked like after its last step (immutable; safe to read from any thread).</summary>
/// <param name="Capture">The capture.</param>
/// <param name="Changefeed">The changefeed.</param>
/// <param name="Epoch">The processor epoch of this incarnation.</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="SpansByState">Executor spans per <see cref="TableState"/> (index = state).</param>
/// <param name="Liveness">The capture's liveness.</param>
/// <param name="Owner">The owner the agent answers to.</param>
/// <param name="Counters">The agent's drop/ignore counters.</param>
/// <param name="KeptStops">Stopped spans whose final checkpoint the agent still reports (docs/AGENT.md, "Kept stops").</param>
public sealed record AgentSnapshot(
    CaptureId Capture, ChangefeedId Changefeed, ProcessorEpoch Epoch, long Steps, IReadOnlyList<int> SpansByState,
    Liveness Liveness, OwnerInfo Owner, AgentCounters Counters, int KeptStops = 0)
{
    /// <summary>Spans the executor holds in any state.</summary>
    public int SpanCount
    {
        get
        {
            int total = 0;
            foreach (var count in SpansByState)
            {
                total += count;
            }

            return total;
        }
    }

    /// <summary>Spans in one state.</summary>
    public int Count(TableState state) => (int)state < SpansByState.Count ? SpansByState[(int)state] : 0;
}

/// <summary>
/// Runs one changefeed's <see cref="Agent"/> on one capture: each step advances the executor, takes
/// the endpoint's inbox (role Agent), ticks the agent, sends its outbox, and hands the returned
/// barrier to the executor. Only the host's loop touches the agent and the executor.
/// </summary>
public sealed class AgentHost : IDisposable
{
    private readonly IMessageEndpoint _endpoint;
    private readonly List<Message> _outbox = [];
    private readonly TimeSpan _interval;
    private volatile AgentSnapshot _snapshot;
    private long _steps;
    private bool _disposed;

    /// <summary>Creates the host and its agent; opens the endpoint.</summary>
    public AgentHost(
        AgentIdentity identity, IHostedTableExecutor executor, LivenessFlag liveness, IMessageTransport transport,
        TimeSpan interval, OwnerInfo owner = default)
    {
        Executor = executor;
        Agent = new Agent(identity, executor, liveness, owner);
        _endpoint = transport.Open(identity.Capture, identity.Changefeed, TransportRole.Agent);
        _interval = interval;
        _snapshot = TakeSnapshot();
    }

    /// <summary>The agent (read it only from the host's loop, or in manual step mode).</summary>
    public Agent Agent { get; }

    /// <summary>The executor (same rule as <see cref="Agent"/>).</summary>
    public IHostedTableExecutor Executor { get; }

    /// <summary>The state after the last step.</summary>
    public AgentSnapshot Snapshot => _snapshot;

    /// <summary>One iteration: advance the executor, receive, tick, send, apply the barrier.</summary>
    public void Step()
    {
        if (_disposed)
        {
            return;
        }

        Executor.Advance();
        var inbox = _endpoint.Receive();
        var result = Agent.Tick(inbox, _outbox);
        _endpoint.Send(_outbox);
        _outbox.Clear();
        Executor.ApplyBarrier(result.Barrier);
        _steps++;
        _snapshot = TakeSnapshot();
    }

    /// <summary>Steps every interval until cancelled (real-time mode).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Step();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes the endpoint (the executor is left to the caller: stopped on a kill, drained on a graceful stop).</summary>
    public void Dispose()
    {
        _disposed = true;
        _endpoint.Dispose();
    }

    private AgentSnapshot TakeSnapshot()
    {
        var byState = Executor.CountByState();
        var identity = Agent.Identity;
        return new AgentSnapshot(identity.Capture, identity.Changefeed, identity.Epoch, _steps, byState, Agent.Liveness, Agent.Owner, Agent.Counters, Agent.KeptStopCount);
    }
}
