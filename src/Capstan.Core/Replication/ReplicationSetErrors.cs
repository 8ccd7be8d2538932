namespace Capstan.Core.Replication;

/// <summary>
/// A replication set reached, or was asked to reach, a state its diagram does not allow. The
/// coordinator turns it into a failed tick; the host restarts the changefeed's scheduling.
/// </summary>
public class ReplicationSetInconsistentException : Exception
{
    /// <summary>Creates the error; the message should include the set's full state.</summary>
    public ReplicationSetInconsistentException(string message) : base("replication set inconsistent: " + message)
    {
    }
}

/// <summary>Two captures claim to replicate the same span.</summary>
public sealed class ReplicationSetMultiplePrimaryException : ReplicationSetInconsistentException
{
    /// <summary>Creates the error; the message should include the set's full state.</summary>
    public ReplicationSetMultiplePrimaryException(string message) : base("multiple primary: " + message)
    {
    }
}
