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
