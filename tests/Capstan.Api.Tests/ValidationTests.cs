namespace Capstan.Api.Tests;

using Capstan.Api.Validation;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("capture-1")]
    [InlineData("a")]
    [InlineData("A1-b2-C3")]
    public void CheckId_ValidId_ReturnsNull(string id) => Assert.Null(ApiValidation.CheckId(id, "capture_id"));

    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData("a--b")]
    [InlineData("a_b")]
    [InlineData("a b")]
    [InlineData("ä")]
    [InlineData("a\n")]
    public void CheckId_InvalidId_ExplainsTheRule(string id)
    {
        var problem = ApiValidation.CheckId(id, "capture_id");
        Assert.NotNull(problem);
        Assert.Contains("capture_id", problem);
    }

    [Fact]
    public void CheckId_TooLong_SaysTheLimit()
    {
        Assert.Null(ApiValidation.CheckId(new string('a', 128), "changefeed_id"));
        Assert.Contains("at most 128", ApiValidation.CheckId(new string('a', 129), "changefeed_id"));
    }

    [Theory]
    [InlineData("1", 1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void TryParseTableId_PositiveInt64_Parses(string text, long expected)
    {
        Assert.Null(ApiValidation.TryParseTableId(text, out long table));
        Assert.Equal(expected, table);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5")]
    [InlineData("abc")]
    [InlineData("9223372036854775808")]
    [InlineData(" 1")]
    public void TryParseTableId_NotAPositiveInt64_IsRejected(string text) =>
        Assert.NotNull(ApiValidation.TryParseTableId(text, out _));

    [Fact]
    public void CheckTableIds_EmptyDuplicateOrNonPositive_AreRejected()
    {
        Assert.NotNull(ApiValidation.CheckTableIds(null, allowEmpty: false));
        Assert.NotNull(ApiValidation.CheckTableIds([], allowEmpty: false));
        Assert.Contains("twice", ApiValidation.CheckTableIds([1, 2, 1], allowEmpty: false));
        Assert.Contains("positive", ApiValidation.CheckTableIds([1, 0], allowEmpty: false));
        Assert.Null(ApiValidation.CheckTableIds([3, 1, 2], allowEmpty: false));
    }
}

public sealed class TransportReadingsTests
{
    [Fact]
    public void Of_GrpcCounters_NamesEveryResultOnce()
    {
        var readings = Capstan.Api.Hosting.TransportReadings.Of(new Capstan.Transport.Grpc.GrpcTransportCounters { SentMessages = 5, Received = 7, RejectedInboxFull = 2 });
        Assert.Equal(readings.Count, readings.Select(r => r.Key).Distinct().Count());
        Assert.Equal(5, readings.Single(r => r.Key == "sent").Value);
        Assert.Equal(7, readings.Single(r => r.Key == "received").Value);
        Assert.Equal(2, readings.Single(r => r.Key == "rejected_inbox_full").Value);
    }

    [Fact]
    public void Of_InProcessCounters_MapsDeliveredAndRefusals()
    {
        var readings = Capstan.Api.Hosting.TransportReadings.Of(new Capstan.Runtime.Transport.TransportCounters { Delivered = 3, RefusedInboxFull = 1 });
        Assert.Equal(3, readings.Single(r => r.Key == "delivered").Value);
        Assert.Equal(1, readings.Single(r => r.Key == "refused_inbox_full").Value);
    }
}
