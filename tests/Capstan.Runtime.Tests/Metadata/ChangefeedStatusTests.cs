namespace Capstan.Runtime.Tests.Metadata;

using Capstan.Core.Model;
using Capstan.Runtime.Metadata;
using CsCheck;

public sealed class ChangefeedStatusTests
{
    [Fact]
    public void Advance_NothingStored_TakesIncoming()
    {
        var incoming = new ChangefeedStatus(new Ts(5), new Ts(9));
        Assert.Same(incoming, ChangefeedStatus.Advance(null, incoming));
    }

    [Fact]
    public void Advance_LowerCheckpoint_KeepsStoredCheckpointAndLiftsResolved()
    {
        var stored = new ChangefeedStatus(new Ts(50), new Ts(70));
        Assert.Equal(new ChangefeedStatus(new Ts(50), new Ts(50)), ChangefeedStatus.Advance(stored, new ChangefeedStatus(new Ts(20), new Ts(30))));
        Assert.Equal(new ChangefeedStatus(new Ts(50), new Ts(60)), ChangefeedStatus.Advance(stored, new ChangefeedStatus(new Ts(20), new Ts(60))));
    }

    [Fact]
    public void Advance_AnySequence_CheckpointIsTheRunningMaximum()
    {
        Gen.ULong[0, 1000].Array[1, 30].Sample(checkpoints =>
        {
            ChangefeedStatus? stored = null;
            var max = 0UL;
            foreach (var checkpoint in checkpoints)
            {
                stored = ChangefeedStatus.Advance(stored, new ChangefeedStatus(new Ts(checkpoint), new Ts(checkpoint + 1)));
                max = Math.Max(max, checkpoint);
                if (stored.CheckpointTs != new Ts(max) || stored.ResolvedTs < stored.CheckpointTs)
                {
                    return false;
                }
            }

            return true;
        }, iter: 2000); // CsCheck prints the seed of a failing sample for replay
    }
}
