namespace Capstan.Api.Validation;

using System.Globalization;
using System.Text.RegularExpressions;

/// <summary>
/// Parameter checks of the API (TiCDC's rules): ids match <c>^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$</c> and
/// are at most 128 characters; table ids are positive 64-bit integers. Each check returns null when
/// the value is valid, or a message that says what is wrong and what is expected.
/// </summary>
public static partial class ApiValidation
{
    /// <summary>Longest accepted id.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Most tables one request may name.</summary>
    public const int MaxTablesPerRequest = 1_000_000;

    /// <summary>Checks a capture or changefeed id; <paramref name="what"/> names it in the message.</summary>
    public static string? CheckId(string? value, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            return $"{what} is required";
        }

        if (value.Length > MaxIdLength)
        {
            return $"{what} is {value.Length} characters long; at most {MaxIdLength} are allowed";
        }

        return IdPattern().IsMatch(value)
            ? null
            : $"{what} '{Printable(value)}' is invalid: use letters and digits in groups joined by single '-' (e.g. 'capture-1')";
    }

    /// <summary>Parses a table id given as text (a route segment).</summary>
    public static string? TryParseTableId(string? text, out long tableId)
    {
        tableId = 0;
        if (string.IsNullOrEmpty(text))
        {
            return "table_id is required";
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out tableId))
        {
            return $"table_id '{Printable(text)}' is not a positive 64-bit integer";
        }

        return CheckTableId(tableId);
    }

    /// <summary>Checks a table id.</summary>
    public static string? CheckTableId(long? tableId) => tableId switch
    {
        null => "table_id is required",
        <= 0 => $"table_id {tableId} is invalid: table ids are positive",
        _ => null,
    };

    /// <summary>Checks a list of table ids: present, not too many, each positive, no duplicates.</summary>
    public static string? CheckTableIds(long[]? tableIds, bool allowEmpty)
    {
        if (tableIds is null || (!allowEmpty && tableIds.Length == 0))
        {
            return "table_ids is required: a non-empty list of positive table ids, e.g. [1, 2, 3]";
        }

        if (tableIds.Length > MaxTablesPerRequest)
        {
            return $"table_ids has {tableIds.Length} entries; at most {MaxTablesPerRequest} are allowed";
        }

        var seen = new HashSet<long>();
        foreach (long tableId in tableIds)
        {
            if (CheckTableId(tableId) is { } problem)
            {
                return problem;
            }

            if (!seen.Add(tableId))
            {
                return $"table_ids lists table {tableId} twice";
            }
        }

        return null;
    }

    /// <summary>A value cut to a readable length with control characters replaced, for messages.</summary>
    internal static string Printable(string value)
    {
        var text = value.Length > 64 ? value[..64] + "…" : value;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }

    // \z, not $: in .NET "$" also matches before a final newline, so "a\n" would pass.
    [GeneratedRegex(@"\A[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
