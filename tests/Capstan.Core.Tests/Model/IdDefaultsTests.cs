namespace Capstan.Core.Tests.Model;

using Capstan.Core.Model;

/// <summary>Default values of the string ids (e.g. an unset Message.From) behave as the empty id, never as null.</summary>
public class IdDefaultsTests
{
    [Fact]
    public void CaptureId_Default_IsNoneAndEqualToNone()
    {
        CaptureId id = default;
        Assert.True(id.IsNone);
        Assert.Equal(CaptureId.None, id);
        Assert.Equal(CaptureId.None.GetHashCode(), id.GetHashCode());
        Assert.Equal(string.Empty, id.Value);
    }

    [Fact]
    public void ProcessorEpoch_Default_IsNoneAndEqualToNone()
    {
        ProcessorEpoch epoch = default;
        Assert.True(epoch.IsNone);
        Assert.Equal(ProcessorEpoch.None, epoch);
        Assert.Equal(string.Empty, epoch.Value);
    }

    [Fact]
    public void ChangefeedId_Default_EqualsEmpty()
    {
        ChangefeedId id = default;
        Assert.Equal(new ChangefeedId(string.Empty), id);
        Assert.Equal(string.Empty, id.Value);
    }
}
