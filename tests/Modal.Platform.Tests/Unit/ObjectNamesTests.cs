using Modal.Storage.Objects;

namespace Modal.Platform.Tests.Unit;

public sealed class ObjectNamesTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("My_Dict-1.v2", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("slash/in", false)]
    [InlineData("colon:in", false)]
    [InlineData("ünïcode", false)]
    public void IsValidName_FollowsTheRule(string name, bool valid) => Assert.Equal(valid, ObjectNames.IsValidName(name));

    [Fact]
    public void IsValidName_64CharactersAllowed_65Refused()
    {
        Assert.True(ObjectNames.IsValidName(new string('a', 64)));
        Assert.False(ObjectNames.IsValidName(new string('a', 65)));
    }

    [Fact]
    public void IsValidPartitionKey_CountsUtf8BytesFrom1To64()
    {
        Assert.False(ObjectNames.IsValidPartitionKey(""));
        Assert.True(ObjectNames.IsValidPartitionKey("p"));
        Assert.True(ObjectNames.IsValidPartitionKey(new string('x', 64)));
        Assert.False(ObjectNames.IsValidPartitionKey(new string('x', 65)));
        // 'é' is two bytes in UTF-8: 32 of them are 64 bytes, 33 are 66.
        Assert.True(ObjectNames.IsValidPartitionKey(new string('é', 32)));
        Assert.False(ObjectNames.IsValidPartitionKey(new string('é', 33)));
    }

    [Fact]
    public void IsValidDictKey_RefusesEmptyAndOver1KiB()
    {
        Assert.False(ObjectNames.IsValidDictKey(""));
        Assert.False(ObjectNames.IsValidDictKey(null));
        Assert.True(ObjectNames.IsValidDictKey(new string('k', 1024)));
        Assert.False(ObjectNames.IsValidDictKey(new string('k', 1025)));
    }
}
