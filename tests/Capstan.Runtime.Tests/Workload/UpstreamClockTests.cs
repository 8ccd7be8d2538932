namespace Capstan.Runtime.Tests.Workload;

using Capstan.Core.Model;
using Capstan.Runtime.Workload;

public class UpstreamClockTests
{
    [Fact]
    public void Now_IsPhysicalMillisecondsShiftedBy18()
    {
        var time = new ManualTimeSource(1_000);
        var clock = new UpstreamClock(time);

        Assert.Equal(1_000UL << 18, clock.Now().Value);
        time.Advance(50);
        Assert.Equal(1_050L, clock.Now().PhysicalMilliseconds);
        Assert.Equal(0L, clock.Now().Logical);
    }

    [Fact]
    public void Next_WithinOneMillisecond_CountsTheLogicalPartUp()
    {
        var clock = new UpstreamClock(() => 7);

        var first = clock.Next();
        var second = clock.Next();

        Assert.Equal(Ts.FromPhysical(7), first);
        Assert.Equal(Ts.FromPhysical(7, 1), second);
    }

    [Fact]
    public void Now_WhenTheSourceGoesBack_NeverRegresses()
    {
        long ms = 5_000;
        var clock = new UpstreamClock(() => ms);
        var before = clock.Now();

        ms = 4_000;

        Assert.True(clock.Now() >= before);
        Assert.True(clock.Next() >= before);
    }

    [Fact]
    public void ManualTimeSource_AdvanceNegative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ManualTimeSource().Advance(-1));
    }
}
