namespace Capstan.Server.Tests.Hosting;

using Capstan.Core.Member;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Workload;

public sealed class CaptureSupervisorTests
{
    [Fact(DisplayName = "Session lost → the incarnation fences itself (every executor stopped at once) and the capture joins again with a new processor epoch (Go §13 #1 keeps the epoch empty forever); its tables replicate again")]
    public async Task SessionLost_FencesAndRejoinsWithNewEpoch()
    {
        await using var kit = new InProcessKit();
        var (a, _) = kit.Start("a");
        await kit.CreateChangefeedAsync(20);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) == 20, "a replicates 20 tables");
        var first = a.Current!;
        var executor = (SimulatedTableExecutor)first.Agents.Single().Executor;

        Assert.True(kit.Membership.Expire("a"));

        await InProcessKit.WaitAsync(() => a.Incarnations.Count == 2 && a.Current is not null, "a joins again");
        Assert.Equal(CaptureNodeState.Fenced, a.Incarnations[0].State);
        Assert.Equal(CaptureNodeState.Fenced, first.State);
        Assert.True(executor.IsStopped, "the fenced incarnation's executor was stopped");
        Assert.Equal(0, executor.SpanCount);
        Assert.NotEqual(first.Epoch, a.Current!.Epoch);
        Assert.Equal(1, a.Fencings);
        Assert.Equal(20, kit.AbandonedBy("a"));
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) == 20, "the new incarnation replicates the 20 tables again");
        Assert.Equal(SupervisorPhase.Running, a.Phase);
    }

    [Fact(DisplayName = "Graceful shutdown with another capture alive: liveness Stopping, every table moves to the other capture, then it leaves (Stopped, nothing abandoned)")]
    public async Task Shutdown_WithAnotherCapture_DrainsThenLeaves()
    {
        await using var kit = new InProcessKit();
        var (a, _) = kit.Start("a");
        await InProcessKit.WaitAsync(() => a.Current?.OwnerRevision is not null, "a is the owner");
        var (b, bRun) = kit.Start("b");
        await kit.CreateChangefeedAsync(40);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) + InProcessKit.Replicating(b) == 40 && InProcessKit.Replicating(b) > 0,
            "both replicate, 40 tables in all");

        b.RequestShutdown("test");
        await InProcessKit.WaitAsync(() => b.Phase == SupervisorPhase.Draining, "b drains");
        var ended = await bRun.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CaptureNodeState.Stopped, ended);
        Assert.Equal(SupervisorPhase.Stopped, b.Phase);
        Assert.Equal(0, kit.AbandonedBy("b"));
        Assert.False(kit.Membership.AliveCaptures.ContainsKey("b"));
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) == 40, "a replicates all 40 tables");
    }

    [Fact(DisplayName = "Graceful shutdown of the only capture: nobody could take its tables, so it leaves at once instead of waiting for the drain timeout")]
    public async Task Shutdown_Alone_LeavesWithoutWaiting()
    {
        await using var kit = new InProcessKit(gracefulStopTimeoutMilliseconds: 86_400_000);
        var (a, run) = kit.Start("a");
        await kit.CreateChangefeedAsync(10);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(a) == 10, "a replicates 10 tables");

        a.RequestShutdown("test");
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CaptureNodeState.Killed, ended);
        Assert.Empty(kit.Membership.AliveCaptures);
    }

    [Fact(DisplayName = "A second shutdown request stops at once: the drain is cut short, the capture is killed")]
    public async Task Shutdown_Twice_StopsAtOnce()
    {
        await using var kit = new InProcessKit(gracefulStopTimeoutMilliseconds: 86_400_000);
        var (a, _) = kit.Start("a");
        await InProcessKit.WaitAsync(() => a.Current?.OwnerRevision is not null, "a is the owner");
        var (b, bRun) = kit.Start("b");
        await kit.CreateChangefeedAsync(40);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(b) > 0, "b replicates");
        int held = InProcessKit.Held(b);

        b.RequestShutdown("test");
        b.RequestShutdown("test again");
        var ended = await bRun.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CaptureNodeState.Killed, ended);
        Assert.True(kit.AbandonedBy("b") > 0, $"b abandoned what it held ({held} spans before the stop)");
    }

    [Fact(DisplayName = "Registration failing (cluster store unreachable) is retried until it succeeds; one incarnation")]
    public async Task Register_Failing_Retried()
    {
        var membership = new FlakyMembership(new InProcessMembership(), failures: 3);
        await using var kit = new InProcessKit(membership: membership);
        var (a, _) = kit.Start("a");

        await InProcessKit.WaitAsync(() => a.Phase == SupervisorPhase.Running, "a runs");
        Assert.Equal(4, membership.Attempts);
        Assert.Single(a.Incarnations);
    }

    [Fact(DisplayName = "Shutdown while registration keeps failing: the supervisor gives up joining and stops")]
    public async Task Shutdown_WhileJoining_Stops()
    {
        var membership = new FlakyMembership(new InProcessMembership(), failures: int.MaxValue);
        await using var kit = new InProcessKit(membership: membership);
        var (a, run) = kit.Start("a");
        await InProcessKit.WaitAsync(() => membership.Attempts >= 2, "a tried to register twice");

        a.RequestShutdown("test");
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CaptureNodeState.Created, ended);
        Assert.Equal(SupervisorPhase.Stopped, a.Phase);
        Assert.Empty(a.Incarnations);
    }

    /// <summary>Membership whose first registrations fail as an unreachable etcd would.</summary>
    private sealed class FlakyMembership(InProcessMembership inner, int failures) : IMembership
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public IReadOnlyDictionary<Core.Model.CaptureId, CaptureInfo> AliveCaptures => inner.AliveCaptures;

        public event Action? CapturesChanged
        {
            add => inner.CapturesChanged += value;
            remove => inner.CapturesChanged -= value;
        }

        public Task<ICaptureSession> RegisterAsync(CaptureInfo capture, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _attempts) <= failures
                ? Task.FromException<ICaptureSession>(new IOException("etcd is unreachable"))
                : inner.RegisterAsync(capture, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
