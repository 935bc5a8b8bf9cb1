// Jest runs only the suite that proves the package works inside Jest's module system.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__test__/jest'],
  testMatch: ['**/*.jest.test.js'],
  testTimeout: 30000,
};
