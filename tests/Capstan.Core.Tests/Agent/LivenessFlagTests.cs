namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Protocol;

public class LivenessFlagTests
{
    [Fact]
    public void TrySetStopping_FromAlive_ChangesOnceAndNeverBack()
    {
        var flag = new LivenessFlag();
        Assert.Equal(Liveness.Alive, flag.Value);

        Assert.True(flag.TrySetStopping());
        Assert.False(flag.TrySetStopping());
        Assert.Equal(Liveness.Stopping, flag.Value);
    }
}
