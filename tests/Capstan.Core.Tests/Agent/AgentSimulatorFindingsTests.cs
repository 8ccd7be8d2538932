namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using static AgentHarness;

/// <summary>
/// Regression tests for agent bugs found by the cluster simulator (src/Capstan.Simulation),
/// named with the seed that found them (replay: ./capstan simulate --seed N --profile small).
/// </summary>
public class AgentSimulatorFindingsTests
{
    private static Message StoppingHeartbeat(ProcessorEpoch epoch) => Heartbeat(new Heartbeat { IsStopping = true }) with { Header = OwnerHeader(epoch: epoch) };

    [Fact(DisplayName = "Simulator seed 35 (small): a stopping heartbeat meant for the previous incarnation (its epoch) is answered but does not stop this one")]
    public void StoppingHeartbeat_ForAPredecessor_DoesNotStopThisIncarnation()
    {
        var harness = new AgentHarness(KnownOwner);

        var outbox = harness.Tick(StoppingHeartbeat(new ProcessorEpoch("agent-epoch-0")));

        Assert.Equal(Liveness.Alive, harness.Liveness.Value);
        Assert.Equal(Liveness.Alive, HeartbeatResponseOf(Assert.Single(outbox)).Liveness);
        Assert.Equal(1, harness.Agent.Counters.StaleStoppingRequestsIgnored);
    }

    [Theory(DisplayName = "Simulator seed 35 (small): a stopping heartbeat with this incarnation's epoch, or with none (the owner does not know it yet), stops it")]
    [InlineData("agent-epoch-1")]
    [InlineData("")]
    public void StoppingHeartbeat_ForThisIncarnationOrUnknown_Stops(string epoch)
    {
        var harness = new AgentHarness(KnownOwner);

        var outbox = harness.Tick(StoppingHeartbeat(new ProcessorEpoch(epoch)));

        Assert.Equal(Liveness.Stopping, harness.Liveness.Value);
        Assert.Equal(Liveness.Stopping, HeartbeatResponseOf(Assert.Single(outbox)).Liveness);
        Assert.Equal(0, harness.Agent.Counters.StaleStoppingRequestsIgnored);
    }
}
